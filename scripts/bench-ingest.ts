/**
 * `npm run bench:ingest -- [zip or folder…] [--size 150] [--timeout 900]`: how fast the real app lists, reads and
 * decodes a dataset zip (or unzipped folder) in headless Chromium, and how much memory the page takes meanwhile.
 * Builds the app, serves it with `vite preview`, drops each zip on the `Dataset` input and watches the
 * `Loading dataset` bar; the page's own load figures (data-testid=load-stats) give the phase times,
 * and /proc gives the resident memory of the browser's renderer (the page and its workers).
 * Without arguments it runs on the generated download-shaped archive (`npm run make:download` writes it)
 * and on ../shared/data/chest_xray_fullres_sample.zip, whichever exist.
 */
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { serveBuiltApp } from './benchApp';
import { sampleBrowserMemory } from './processMemory';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { size: { type: 'string', default: '150' }, timeout: { type: 'string', default: '900' } },
});
const size = Number(values.size);
const timeoutMs = Number(values.timeout) * 1000;
const zips = (
  positionals.length > 0
    ? positionals
    : [
        join(tmpdir(), 'xray-download', 'chest_xray_download.zip'),
        resolve('../shared/data/chest_xray_fullres_sample.zip'),
      ].filter((p) => existsSync(p))
).map((p) => resolve(p));
if (zips.length === 0) {
  console.error('No zip to read: give one, or run `npm run make:download` first.');
  process.exit(2);
}

const marker = `--bench-ingest-marker=${process.pid}`;
const sumsOf = (m: Sums): Sums => ({ total: m.total, proportional: m.proportional, anonymous: m.anonymous });
const MiB = 1024 ** 2;

/** The sums of one sample that the report prints for an empty tab and for the app at rest. */
interface Sums {
  total: number;
  proportional: number;
  anonymous: number;
}

interface Result {
  zip: string;
  gib: number;
  counts: string;
  skipped: string;
  stats: Record<string, number>;
  /** Peak renderer memory (resident, and private) in each phase, and once loaded (what the page keeps). */
  peak: Record<'idle' | 'listing' | 'decoding' | 'loaded', { rss: number; private: number }>;
  /** Peak resident memory summed over every process of the browser (browser, GPU, utility, renderers), any phase. */
  peakAllProcesses: number;
  /** The processes' share of that peak, by type. */
  peakByType: Record<string, number>;
  /** Processes of each type at that peak. */
  peakCounts: Record<string, number>;
  /** Peak proportional memory (PSS) summed over every process: shared pages counted once in all. */
  peakProportional: number;
  peakProportionalByType: Record<string, number>;
  /** The resident peak split by backing: anonymous (what the processes allocated), file-backed, shared memory. */
  peakBacking: { anonymous: number; fileBacked: number; sharedMemory: number };
  /** Peak anonymous resident memory summed over every process (what the browser and the page allocated), by type. */
  peakAnonymous: number;
  peakAnonymousByType: Record<string, number>;
  /** The same two sums with an empty tab (about:blank) and with the app open before loading. */
  blank: Sums;
  idle: Sums;
  error: string | null;
}

// The marker finds this browser's processes in /proc (Chromium ignores switches it does not know).
const { baseUrl, browser, close } = await serveBuiltApp([marker]);
const results: Result[] = [];
try {
  for (const zip of zips) {
    const page = await browser.newPage();
    // What Chromium itself takes with one empty tab: the floor under every figure below.
    await page.waitForTimeout(1000);
    const blankSample = sampleBrowserMemory(marker);
    await page.goto(`${baseUrl}/?size=${size}`);
    await page.getByRole('heading', { name: '3. Model and settings' }).waitFor();
    await page.waitForTimeout(1000);
    const idleSample = sampleBrowserMemory(marker);
    let peakAllProcesses = 0;
    let peakByType: Record<string, number> = {};
    let peakCounts: Record<string, number> = {};
    let peakProportional = 0;
    let peakProportionalByType: Record<string, number> = {};
    let peakBacking: Result['peakBacking'] = { anonymous: 0, fileBacked: 0, sharedMemory: 0 };
    let peakAnonymous = 0;
    let peakAnonymousByType: Record<string, number> = {};
    const measure = () => {
      const sample = sampleBrowserMemory(marker);
      if (sample.total > peakAllProcesses) {
        peakAllProcesses = sample.total;
        peakByType = sample.byType;
        peakCounts = sample.countByType;
        peakBacking = {
          anonymous: sample.anonymous,
          fileBacked: sample.fileBacked,
          sharedMemory: sample.sharedMemory,
        };
      }
      if (sample.anonymous > peakAnonymous) {
        peakAnonymous = sample.anonymous;
        peakAnonymousByType = sample.anonymousByType;
      }
      if (sample.proportional > peakProportional) {
        peakProportional = sample.proportional;
        peakProportionalByType = sample.proportionalByType;
      }
      return { rss: sample.renderer, private: sample.rendererPrivate };
    };
    const peak: Result['peak'] = {
      idle: measure(),
      listing: { rss: 0, private: 0 },
      decoding: { rss: 0, private: 0 },
      loaded: { rss: 0, private: 0 },
    };
    let phase = 'listing' as 'listing' | 'decoding' | 'done';
    let sampling = true;
    // Phase from the bar's data-phase; memory sampled every 100 ms and charged to the phase it was in.
    const sampler = (async () => {
      while (sampling) {
        const seen = await page
          .getByRole('progressbar', { name: 'Loading dataset' })
          .getAttribute('data-phase', { timeout: 50 })
          .catch(() => null);
        if (seen === 'listing' || seen === 'decoding') phase = seen;
        const now = measure();
        if (phase !== 'done') {
          peak[phase].rss = Math.max(peak[phase].rss, now.rss);
          peak[phase].private = Math.max(peak[phase].private, now.private);
        }
        await new Promise((done) => setTimeout(done, 100));
      }
    })();
    const started = Date.now();
    // A folder goes through the folder picker (webkitdirectory), a file through the zip input.
    await page
      .getByLabel(statSync(zip).isDirectory() ? 'Dataset folder' : 'Dataset', { exact: true })
      .setInputFiles(zip);
    let error: string | null = null;
    try {
      await page.getByTestId('load-stats').waitFor({ timeout: timeoutMs });
    } catch {
      error =
        (await page.getByRole('alert').allInnerTexts()).join(' ') ||
        `no result after ${(Date.now() - started) / 1000} s`;
    }
    phase = 'done';
    sampling = false;
    await sampler;
    // What the page holds once loaded (pixels sent to the training worker, decoders idle).
    await page.waitForTimeout(1500);
    peak.loaded = measure();
    const stats: Record<string, number> = {};
    let counts = '';
    let skipped = '';
    if (!error) {
      const element = page.getByTestId('load-stats');
      for (const key of ['list-ms', 'decode-ms', 'read-ms', 'entries', 'images', 'bytes', 'source-pixels']) {
        stats[key] = Number(await element.getAttribute(`data-${key}`));
      }
      const rows = await page.getByRole('table', { name: 'Dataset summary' }).locator('tbody tr').allInnerTexts();
      counts = rows.map((row) => row.replace(/\s+/g, ' ').trim()).join('; ');
      skipped = (
        await page
          .locator('details.skipped summary')
          .innerText()
          .catch(() => 'none')
      ).replace(/\s+/g, ' ');
    }
    const isFolder = statSync(zip).isDirectory();
    results.push({
      zip,
      gib: (isFolder ? (stats.bytes ?? 0) : statSync(zip).size) / 1024 ** 3,
      counts,
      skipped,
      stats,
      peak,
      peakAllProcesses,
      peakByType,
      peakCounts,
      peakProportional,
      peakProportionalByType,
      peakBacking,
      peakAnonymous,
      peakAnonymousByType,
      blank: sumsOf(blankSample),
      idle: sumsOf(idleSample),
      error,
    });
    console.log(`${basename(zip)}: ${error ?? 'loaded'}`);
    await page.close();
  }
} finally {
  await close();
}

const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const mib = (m: { rss: number; private: number }) => `${fixed(m.rss / MiB, 0)} / ${fixed(m.private / MiB, 0)}`;
console.log(
  `\nIngest in headless Chromium at ${size} px (page and its workers; renderer resident memory sampled every 100 ms)`,
);
for (const r of results) {
  console.log(`\n${basename(r.zip)} (${fixed(r.gib, 2)} GiB)${r.error ? `: FAILED: ${r.error}` : ''}`);
  if (r.error) continue;
  const s = r.stats;
  const decodeSeconds = s['decode-ms'] / 1000;
  console.log(`counts: ${r.counts}`);
  console.log(`${r.skipped}`);
  console.log('phase | wall s | items | items/s | megapixels/s | MB/s | peak renderer MiB (resident / private)');
  console.log('--- | --- | --- | --- | --- | --- | ---');
  console.log(`page before loading | | | | | | ${mib(r.peak.idle)}`);
  console.log(
    `listing (table of contents) | ${fixed(s['list-ms'] / 1000, 2)} | ${s.entries} entries | ${fixed(s.entries / (s['list-ms'] / 1000), 0)} | | | ${mib(r.peak.listing)}`,
  );
  console.log(
    `reading + inflating (summed over parallel reads) | ${fixed(s['read-ms'] / 1000, 2)} | ${s.images} images | ${fixed(s.images / (s['read-ms'] / 1000), 0)} | | ${fixed(s.bytes / 1e6 / (s['read-ms'] / 1000), 0)} | (in decoding)`,
  );
  console.log(
    `reading + decoding (wall) | ${fixed(decodeSeconds, 2)} | ${s.images} images | ${fixed(s.images / decodeSeconds)} | ${fixed(s['source-pixels'] / 1e6 / decodeSeconds, 0)} | ${fixed(s.bytes / 1e6 / decodeSeconds, 0)} | ${mib(r.peak.decoding)}`,
  );
  console.log(`loaded (kept) | | | | | | ${mib(r.peak.loaded)}`);
  const split = (byType: Record<string, number>) =>
    Object.entries(byType)
      .map(
        ([type, bytes]) =>
          `${type}${r.peakCounts[type] > 1 ? ` (${r.peakCounts[type]})` : ''} ${fixed(bytes / MiB, 0)}`,
      )
      .join(', ');
  const verdict = (bytes: number) => `${fixed(bytes / MiB, 0)} MiB (${bytes <= 1024 * MiB ? 'within' : 'over'} 1 GiB)`;
  const inMiB = (bytes: number) => fixed(bytes / MiB, 0);
  const sums = (m: Sums) =>
    `resident ${inMiB(m.total)}, proportional ${inMiB(m.proportional)}, anonymous ${inMiB(m.anonymous)} MiB`;
  console.log(`all browser processes, an empty tab: ${sums(r.blank)}; the app before loading: ${sums(r.idle)}`);
  console.log(
    `peak resident memory, all browser processes summed: ${verdict(r.peakAllProcesses)}; ${split(r.peakByType)}`,
  );
  const b = r.peakBacking;
  const backing = [`anonymous ${inMiB(b.anonymous)}`, `file-backed ${inMiB(b.fileBacked)}`];
  console.log(`the resident peak by backing: ${backing.join(', ')}, shared memory ${inMiB(b.sharedMemory)} MiB`);
  const anonymous = 'peak anonymous resident memory (RssAnon: what the processes allocated, no binary pages)';
  console.log(`${anonymous}, all processes summed: ${verdict(r.peakAnonymous)}; ${split(r.peakAnonymousByType)}`);
  console.log(
    `peak proportional memory (PSS: pages shared between processes counted once), all processes summed: ${verdict(r.peakProportional)}; ${split(r.peakProportionalByType)}`,
  );
}
if (results.some((r) => r.error)) process.exitCode = 1;
