import { expect, test } from './fixtures';
import { BlobReader, Uint8ArrayWriter, ZipReader, ZipWriter, Uint8ArrayReader } from '@zip.js/zip.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildSyntheticZip, encodeImage } from '../scripts/syntheticZip';
import { expectStatus, readSummary } from './helpers';

/** Unpacks a zip into a folder, as a person who downloaded and extracted the dataset would have it. */
async function extract(zip: Uint8Array, into: string): Promise<void> {
  const reader = new ZipReader(new BlobReader(new Blob([zip as Uint8Array<ArrayBuffer>])));
  for (const entry of await reader.getEntries()) {
    if (entry.directory) continue;
    const target = join(into, entry.filename);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, await entry.getData(new Uint8ArrayWriter()));
  }
  await reader.close();
}

test('a picked folder loads like a zip', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'xray-e2e-'));
  const { zip } = await buildSyntheticZip({ seed: 7, perClass: { train: 10, val: 0, test: 3 }, imageSize: 40 });
  await extract(zip, dir);
  await page.goto('/?size=40');
  await page.getByLabel('Dataset folder').setInputFiles(join(dir, 'chest_xray'));
  await expectStatus(page, 'ready');
  expect(await readSummary(page)).toEqual({
    train: { NORMAL: 10, PNEUMONIA: 10, total: 20 },
    validation: { NORMAL: 0, PNEUMONIA: 0, total: 0 },
    test: { NORMAL: 3, PNEUMONIA: 3, total: 6 },
  });
});

test('a zip with one class folder says a classifier needs two', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'xray-e2e-'));
  const { images } = await buildSyntheticZip({
    seed: 8,
    perClass: { train: 4, val: 0, test: 0 },
    imageSize: 40,
    formats: { train: 'png' },
  });
  const writer = new ZipWriter(new Uint8ArrayWriter());
  for (const image of images.filter((i) => i.className === 'NORMAL')) {
    await writer.add(image.path, new Uint8ArrayReader(encodeImage(image.pixels, image.size, 'png')));
  }
  const oneClass = join(dir, 'one-class.zip');
  writeFileSync(oneClass, await writer.close());
  await page.goto('/?size=40');
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(oneClass);
  await expect(page.getByRole('alert')).toContainText(/one class/i);
  await expect(page.getByRole('alert')).toContainText('NORMAL');
  await expectStatus(page, 'error');
});
