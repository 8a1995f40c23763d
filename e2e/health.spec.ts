/**
 * Patients and dataset health: a zip whose file names carry patients, with one patient in two split folders
 * and one image copied across splits; grouping on and off; a bad patient pattern; the demo set's patients.
 */
import { type Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import { encodeImage } from '../scripts/syntheticZip';
import { mulberry32 } from '../src/core/random';
import { syntheticImage } from '../src/data/synthetic';
import { expectStatus } from './helpers';

const SIZE = 32;

/** train: 8 NORMAL patients x 2 images, 8 PNEUMONIA patients x 3; test: 3 + 3 patients, person1 also in train, and a copy of a train image. */
async function leakyZip(): Promise<Buffer> {
  const rng = mulberry32(11);
  const png = (c: number) => encodeImage(syntheticImage(c, SIZE, rng), SIZE, 'png');
  const files: [string, Uint8Array][] = [];
  for (let p = 1; p <= 8; p++)
    for (let i = 1; i <= 2; i++) files.push([`chest_xray/train/NORMAL/IM-00${10 + p}-000${i}.jpeg`, png(0)]);
  for (let p = 1; p <= 8; p++)
    for (let i = 1; i <= 3; i++)
      files.push([`chest_xray/train/PNEUMONIA/person${p}_bacteria_${p * 10 + i}.jpeg`, png(1)]);
  for (let p = 1; p <= 3; p++) files.push([`chest_xray/test/NORMAL/NORMAL2-IM-00${p}-0001.jpeg`, png(0)]);
  for (const p of [1, 30, 31]) files.push([`chest_xray/test/PNEUMONIA/person${p}_virus_${p}.jpeg`, png(1)]);
  files.push(['chest_xray/test/NORMAL/IM-0099-0001.jpeg', files[0][1]]);
  const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false, level: 0 });
  for (const [path, bytes] of files) await writer.add(path, new Uint8ArrayReader(bytes));
  return Buffer.from(await writer.close());
}

async function load(page: Page, query: string): Promise<void> {
  await page.goto(`/?size=${SIZE}${query}`);
  await page
    .getByLabel('Dataset', { exact: true })
    .setInputFiles({ name: 'leaky.zip', mimeType: 'application/zip', buffer: await leakyZip() });
  await expectStatus(page, 'ready');
}

test('Dataset health names a patient in two split folders and a duplicate across splits; the summary counts patients', async ({
  page,
}) => {
  await load(page, '');
  await expect(page.getByLabel('Group by')).toHaveValue('patient');
  const health = page.getByRole('region', { name: 'Dataset health' });
  await expect(health).toContainText('2 leaks found');
  await expect(health).toContainText(
    '1 patient appears in more than one split folder, a leak in the archive itself: person1 (train 3, test 1).',
  );
  await expect(health).toContainText(
    '1 image is duplicated across splits (2 files; same bytes, or the same decoded pixels), a leak: the model would be checked on what it trained on. chest_xray/test/NORMAL/IM-0099-0001.jpeg (test) = chest_xray/train/NORMAL/IM-0011-0001.jpeg',
  );
  await expect(health).toContainText('22 patients (by file name) in 47 images');
  await expect(health).toContainText('Stored size: all 47 images are 32 × 32 px.');

  const summary = page.getByRole('table', { name: 'Dataset summary' });
  await expect(summary.locator('thead th').last()).toHaveText('patients');
  await expect(
    summary
      .getByRole('row', { name: /^train\b/ })
      .locator('td')
      .last(),
  ).toHaveText('16');
  await expect(
    summary
      .getByRole('row', { name: /^test\b/ })
      .locator('td')
      .last(),
  ).toHaveText('7');
  await expect(page.getByTestId('validation-source')).toHaveText(
    /^Validation: 10% of train held out \(\d+ images of \d+ patients\), stratified, by patient, seed 1 .* Training uses \d+ images \(\d+ patients\)/,
  );
});

test('Group by none splits image by image and says patients are not considered', async ({ page }) => {
  await load(page, '&group=none');
  await expect(page.getByLabel('Group by')).toHaveValue('none');
  await expect(page.getByTestId('validation-source')).toHaveText(
    /^Validation: 10% of train held out \(4 images\), stratified, seed 1 \(there is no val folder\)\. Training uses 36 images, validation 4, test 7\.$/,
  );
  const health = page.getByRole('region', { name: 'Dataset health' });
  await expect(health).toContainText('Grouping is off (Group by: none)');
  await expect(health).toContainText('1 image is duplicated across splits');
  await expect(page.getByRole('table', { name: 'Dataset summary' }).locator('thead th').last()).toHaveText('total');

  // Back to patients: Train would load the dataset again, and says so.
  await page.getByLabel('Group by').selectOption('patient');
  await expect(
    page.getByText('The dataset will be loaded again, grouping images by the patient in each file name.'),
  ).toBeVisible();
});

test('a patient pattern that is no regular expression is refused, in words', async ({ page }) => {
  await page.goto(`/?size=${SIZE}&group=regex`);
  await page.getByRole('button', { name: 'Try demo dataset' }).click();
  await expectStatus(page, 'ready');
  const pattern = page.getByLabel('Patient pattern');
  await pattern.fill('^(person\\d+');
  await expect(page.getByText(/^Patient pattern must be a valid regular expression \(.+\)\.$/)).toBeVisible();
  await expect(pattern).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('button', { name: 'Train', exact: true })).toBeDisabled();
  await pattern.fill('^(person\\d+)_');
  await expect(page.getByRole('button', { name: 'Train', exact: true })).toBeEnabled();
  await expect(page).toHaveURL(/groupre=%5E%28person%5Cd%2B%29_/);

  // The demo set has three images a synthetic patient, none in two splits.
  const health = page.getByRole('region', { name: 'Dataset health' });
  await expect(health).toContainText('240 patients (by file name) in 720 images');
  await expect(health).toContainText('No leak found between the splits.');
});

/** `pixels` (size x size) through a 3x3 box blur `times` times, edges clamped: a softer film of the same chest. */
function boxBlurred(pixels: Uint8Array, size: number, times: number): Uint8Array {
  let x = pixels;
  for (let t = 0; t < times; t++) {
    const out = new Uint8Array(x.length);
    for (let y = 0; y < size; y++)
      for (let c = 0; c < size; c++) {
        let sum = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++)
            sum += x[Math.min(size - 1, Math.max(0, y + dy)) * size + Math.min(size - 1, Math.max(0, c + dx))];
        out[y * size + c] = Math.round(sum / 9);
      }
    x = out;
  }
  return x;
}

test('Dataset health cautions when the classes differ in fine detail and stored size, not only in the disease', async ({
  page,
}) => {
  // PNEUMONIA films blurred and stored smaller: what tells them apart is how they were made.
  const rng = mulberry32(5);
  const files: [string, Uint8Array][] = [];
  for (let i = 0; i < 30; i++) {
    files.push([`chest_xray/train/NORMAL/IM-${1000 + i}-0001.png`, encodeImage(syntheticImage(0, 48, rng), 48, 'png')]);
    const soft = boxBlurred(syntheticImage(1, 40, rng), 40, 2);
    files.push([`chest_xray/train/PNEUMONIA/person${i + 1}_bacteria_${i}.png`, encodeImage(soft, 40, 'png')]);
  }
  const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false, level: 0 });
  for (const [path, bytes] of files) await writer.add(path, new Uint8ArrayReader(bytes));
  const zip = Buffer.from(await writer.close());
  await page.goto(`/?size=${SIZE}`);
  await page
    .getByLabel('Dataset', { exact: true })
    .setInputFiles({ name: 'made.zip', mimeType: 'application/zip', buffer: zip });
  await expectStatus(page, 'ready');
  const health = page.getByRole('region', { name: 'Dataset health' });
  // Not a leak: the first line still counts leaks only.
  await expect(health).toContainText('No leak found between the splits.');
  const shortcut = health.locator('[data-finding="shortcuts"]');
  await expect(shortcut).toHaveClass('caution');
  await expect(shortcut).toContainText(
    /^Shortcut: fine detail at the model's input \(PNEUMONIA 0\.\d\d times theirs, AUC (0\.[89]\d|1\.00)\) and stored size \(median 40 × 40 px against 48 × 48 px, AUC 1\.00\) alone tell PNEUMONIA films from NORMAL films apart\. The disease can soften a film, but so can how it was made/,
  );
});
