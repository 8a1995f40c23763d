import { expect, test } from './fixtures';
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import { buildSyntheticZip, encodeImage } from '../scripts/syntheticZip';
import { expectStatus, readSummary } from './helpers';

/** 1,200 train images a class and a few val and test ones, from 20 distinct JPEGs (generating 2,460 takes a minute). */
async function bigZip(): Promise<Uint8Array> {
  const { images } = await buildSyntheticZip({ seed: 3, perClass: { train: 10, val: 0, test: 0 }, imageSize: 160 });
  const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false, level: 0 });
  const folders = { train: 1200, val: 10, test: 20 };
  for (const [folder, count] of Object.entries(folders)) {
    for (const className of ['NORMAL', 'PNEUMONIA']) {
      const pool = images
        .filter((image) => image.className === className)
        .map((image) => encodeImage(image.pixels, image.size, 'jpeg'));
      for (let i = 0; i < count; i++)
        await writer.add(`chest_xray/${folder}/${className}/${i}.jpeg`, new Uint8ArrayReader(pool[i % pool.length]));
    }
  }
  return writer.close();
}

test('the loading bar goes from listing to decoding, with images/s and time left, and the load says what it cost', async ({
  page,
}) => {
  // Enough images that decoding lasts a few seconds here (the rate shows after the first moments).
  const zip = await bigZip();
  await page.goto('/?size=64');
  // Records what the bar and its figures showed while loading, from inside the page (no polling gaps).
  await page.evaluate(() => {
    const seen = { phases: [] as string[], throughput: [] as string[], eta: [] as string[] };
    (window as unknown as { seen: typeof seen }).seen = seen;
    new MutationObserver(() => {
      const bar = document.querySelector('[aria-label="Loading dataset"]');
      const phase = bar?.getAttribute('data-phase');
      if (phase && seen.phases.at(-1) !== phase) seen.phases.push(phase);
      const rate = document.querySelector('[data-testid=load-throughput]')?.textContent;
      if (rate) seen.throughput.push(rate);
      const eta = document.querySelector('[data-testid=load-eta]')?.textContent;
      if (eta) seen.eta.push(eta);
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await page
    .getByLabel('Dataset', { exact: true })
    .setInputFiles({ name: 'big.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) });
  await expectStatus(page, 'ready', 120_000);
  expect((await readSummary(page)).train).toEqual({ NORMAL: 1200, PNEUMONIA: 1200, total: 2400 });

  const seen = await page.evaluate(
    () => (window as unknown as { seen: { phases: string[]; throughput: string[]; eta: string[] } }).seen,
  );
  expect(seen.phases).toEqual(['listing', 'decoding']);
  expect(seen.throughput.length).toBeGreaterThan(0);
  expect(seen.throughput.every((text) => /^[\d,]+ images\/s$/.test(text))).toBe(true);
  expect(seen.eta.some((text) => /left$/.test(text))).toBe(true);

  const stats = page.getByTestId('load-stats');
  await expect(stats).toHaveText(
    /^Read and decoded 2,460 images from [\d.]+ MB in [\d.]+ s \([\d,]+ images\/s, [\d,]+ megapixels\/s\); listing [\d,]+ entries took [\d.]+ s\.$/,
  );
  expect(Number(await stats.getAttribute('data-images'))).toBe(2460);
  // Every image is 160 x 160: the megapixels come from the files' headers, not the decoded size.
  expect(Number(await stats.getAttribute('data-source-pixels'))).toBe(2460 * 160 * 160);
});
