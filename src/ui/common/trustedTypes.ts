/**
 * The page requires Trusted Types for scripts (vite.config.ts' policy): no string reaches innerHTML, eval or a
 * script URL unchecked. The page's only such sinks are the URLs of its own scripts: its workers (`new Worker`, as
 * Vite bundles them) and its service worker (registerSW.js), and two fixed strings of HTML: vega empties a chart's element
 * with innerHTML = '', and glamor (tfjs-vis' styles) probes for old Internet Explorer with a conditional comment. This default policy lets those through
 * (script URLs only of this origin, HTML only those strings), and nothing else: it makes no script at all.
 */

interface TrustedTypePolicyFactory {
  createPolicy(
    name: string,
    rules: { createScriptURL?: (url: string) => string; createHTML?: (html: string) => string },
  ): unknown;
}

/** Why `url` may not be loaded as a script, or null when it may. */
export function scriptUrlProblem(url: string, origin: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url, origin);
  } catch {
    return `not a URL: ${url}`;
  }
  // Not blob: either, though a blob's origin is the page's: a script the page assembled from strings is what this stops.
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return `a ${parsed.protocol} URL is not one of the page's files`;
  return parsed.origin === origin ? null : `${parsed.origin} is not this page's origin`;
}

/**
 * The only HTML the page writes from strings: nothing (vega empties a chart's element with innerHTML = ''), and
 * glamor's test for Internet Explorer 9 and older.
 */
export const ALLOWED_HTML: readonly string[] = ['', '<!--[if lt IE 10]><i></i><![endif]-->'];

/** Installs the policy; a browser without Trusted Types needs none. */
export function installTrustedTypesPolicy(): void {
  const factory = (globalThis as { trustedTypes?: TrustedTypePolicyFactory }).trustedTypes;
  if (!factory) return;
  factory.createPolicy('default', {
    createScriptURL: (url) => {
      const problem = scriptUrlProblem(url, location.origin);
      if (problem) throw new TypeError(`Trusted Types: script URL refused (${problem}).`);
      return url;
    },
    createHTML: (html) => {
      if (!ALLOWED_HTML.includes(html))
        throw new TypeError('Trusted Types: HTML from a string is refused on this page.');
      return html;
    },
  });
}
