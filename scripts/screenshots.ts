/**
 * `npm run screenshots`: the README's pictures of the page, made from the production build in Debian's Chromium,
 * so they show what the page shows now. The demo set at 64 px, 4 epochs, the app's other defaults; Predict gets three
 * of the demo set's test images and one of noise (which the unlike-training detector flags). Writes
 * docs/screenshot.png (the page from the training section down, 1600 px) and one picture of a section each: dataset,
 * training, results, predict.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { mulberry32 } from '../src/core/random';
import { serveBuiltApp } from './benchApp';
import { encodeImage, syntheticImagesOf } from './syntheticZip';

const SIZE = 64;
const WIDTH = 1080;
/** Taller sections are cut here: the README shows their top. */
const MAX_HEIGHT = 2400;

async function status(page: Page, want: string, timeout: number): Promise<void> {
  await page
    .getByTestId('status')
    .filter({ hasText: new RegExp(`^${want}$`) })
    .waitFor({ timeout });
}

/** A section's picture: the region named `name`, at most MAX_HEIGHT tall. */
async function section(page: Page, name: string, file: string): Promise<void> {
  const region = page.getByRole('region', { name, exact: true });
  await region.scrollIntoViewIfNeeded();
  const box = await region.boundingBox();
  if (!box) throw new Error(`no section ${name}`);
  const scroll = await page.evaluate(() => window.scrollY);
  await page.screenshot({
    path: file,
    fullPage: true,
    clip: { x: box.x, y: box.y + scroll, width: box.width, height: Math.min(box.height, MAX_HEIGHT) },
  });
  console.log(`wrote ${file}`);
}

async function main(): Promise<void> {
  const docs = join(process.cwd(), 'docs');
  const dir = mkdtempSync(join(tmpdir(), 'xray-screenshots-'));
  const app = await serveBuiltApp();
  try {
    const page = await app.browser.newPage({ viewport: { width: WIDTH, height: 900 } });
    await page.goto(`${app.baseUrl}/?size=${SIZE}&epochs=4`);
    await page.getByRole('button', { name: 'Try demo dataset' }).click();
    await status(page, 'ready', 120_000);
    await section(page, '2. What is in it', join(docs, 'screenshot-dataset.png'));

    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await status(page, 'done', 600_000);
    await section(page, '4. Training', join(docs, 'screenshot-training.png'));
    await section(page, '5. Results', join(docs, 'screenshot-results.png'));

    // Three unseen demo-like images (another seed than the demo set's) and one of noise.
    const images = syntheticImagesOf({ seed: 99, perClass: { train: 0, val: 0, test: 2 }, imageSize: SIZE });
    const paths = images.slice(1).map((image, i) => {
      const path = join(dir, `${image.className.toLowerCase()}-${i + 1}.png`);
      writeFileSync(path, encodeImage(image.pixels, SIZE, 'png'));
      return path;
    });
    const random = mulberry32(7);
    const noise = Uint8Array.from({ length: SIZE * SIZE }, () => Math.floor(random() * 256));
    paths.push(join(dir, 'noise.png'));
    writeFileSync(paths[paths.length - 1], encodeImage(noise, SIZE, 'png'));
    await page.getByLabel('Images to predict').setInputFiles(paths);
    await page
      .getByRole('table', { name: 'Predictions' })
      .locator('tbody tr')
      .nth(paths.length - 1)
      .waitFor();
    await page.getByRole('button', { name: 'Enlarge noise.png' }).click();
    await section(page, '6. Predict', join(docs, 'screenshot-predict.png'));

    // The README's first picture: from the training section down, as a person sees it after a run.
    const training = await page.getByRole('region', { name: '4. Training', exact: true }).boundingBox();
    const top = (training?.y ?? 0) + (await page.evaluate(() => window.scrollY));
    await page.screenshot({
      path: join(docs, 'screenshot.png'),
      fullPage: true,
      clip: { x: 0, y: Math.max(0, top - 16), width: WIDTH, height: 1600 },
    });
    console.log(`wrote ${join(docs, 'screenshot.png')}`);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
