/**
 * Every e2e test fails on a security-policy report: a Content-Security-Policy violation (the page's
 * `securitypolicyviolation` events, and what Chromium logs) or a Trusted Types refusal (a TypeError on the page).
 * Specs import `test` and `expect` from here; a context a test makes itself is watched with watchSecurityPolicy.
 */
import { expect, test as base, type BrowserContext } from '@playwright/test';

const MARK = 'security-policy-violation:';
const REPORT = /Content Security Policy|Trusted ?Type|TrustedHTML|TrustedScript/i;

/** Starts recording the context's security-policy reports; the returned list fills as they come. */
export async function watchSecurityPolicy(context: BrowserContext): Promise<string[]> {
  const reports: string[] = [];
  await context.addInitScript((mark: string) => {
    addEventListener('securitypolicyviolation', (event) => {
      const e = event as SecurityPolicyViolationEvent;
      console.error(
        `${mark} ${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} in ${e.sourceFile}:${e.lineNumber} ${e.sample}`,
      );
    });
  }, MARK);
  context.on('console', (message) => {
    const text = message.text();
    if (text.startsWith(MARK) || (message.type() === 'error' && REPORT.test(text))) reports.push(text);
  });
  context.on('weberror', (error) => {
    const text = error.error().message;
    if (REPORT.test(text)) reports.push(`page error: ${text}`);
  });
  return reports;
}

export const test = base.extend<{ securityPolicyReports: string[] }>({
  securityPolicyReports: [
    async ({ context }, use) => {
      const reports = await watchSecurityPolicy(context);
      await use(reports);
      expect(reports, 'security-policy violations reported by the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
