/** A test split held out of an archive that has none: by a share of train, or by a file-name pattern. */
import { readFileSync } from 'node:fs';
import { expect, test } from './fixtures';
import { expectNoSidewaysScroll, expectStatus, writeSyntheticZip } from './helpers';

const SIZE = 32;

/** An archive with a train folder only (30 PNGs a class, named normal-001.png … pneumonia-030.png). */
async function writeTrainOnlyZip(): Promise<string> {
  const dataset = {
    seed: 4,
    perClass: { train: 30, val: 0, test: 0 },
    imageSize: SIZE,
    formats: { train: 'png' },
  } as const;
  return (await writeSyntheticZip(dataset, 'xray-e2e-', 'train_only.zip')).zipPath;
}

test('holds out a test split when the archive has none, and evaluates on it', async ({ page }) => {
  const zipPath = await writeTrainOnlyZip();
  await page.goto(`/?size=${SIZE}&epochs=1&batch=16&holdout=20`);
  await expect(page.getByLabel('Test hold-out', { exact: true })).toHaveValue('20');
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await expect(page.getByTestId('test-source')).toHaveText(
    'Test: 20% of train held out (12 images: NORMAL 6, PNEUMONIA 6), stratified, seed 1, because the archive has no test folder.',
  );
  await expect(page.getByTestId('validation-source')).toContainText('test 12');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expectStatus(page, 'done', 180_000);
  await expect(page.getByRole('table', { name: 'Test metrics' }).locator('caption')).toContainText(
    'On the test split (12 images)',
  );
  await expect(page.getByRole('figure', { name: 'Misclassified images' })).toBeVisible();
});

test('holds out by a file-name pattern: the matching images are the test split; a pattern that empties a class is refused', async ({
  page,
}) => {
  const zipPath = await writeTrainOnlyZip();
  // The generated names are normal-001.png … pneumonia-030.png: the first five of each class.
  await page.goto(`/?size=${SIZE}&epochs=1&batch=16&testre=${encodeURIComponent('-00[1-5]\\.')}`);
  await expect(page.getByLabel('Test hold-out pattern')).toHaveValue('-00[1-5]\\.');
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await expect(page.getByTestId('test-source')).toHaveText(
    'Test: the images of train whose file name matches -00[1-5]\\. (10 images: NORMAL 5, PNEUMONIA 5), whole patients, because the archive has no test folder.',
  );
  await expect(page.getByTestId('validation-source')).toContainText('test 10');
  // Every normal image matches: nothing of that class would be left to train on.
  await page.goto(`/?size=${SIZE}&testre=${encodeURIComponent('^normal')}`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expect(page.getByRole('alert')).toContainText('matches every training image of NORMAL');
});

test('without a test split the Results are on validation, each image named by its file', async ({ page }) => {
  const zipPath = await writeTrainOnlyZip();
  await page.goto(`/?size=${SIZE}&epochs=1&batch=16`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expectStatus(page, 'done', 180_000);
  await expect(page.getByRole('table', { name: 'Test metrics' }).locator('caption')).toContainText(
    'On the validation split (6 images',
  );
  // The validation images were held out of train: their rows (and the CSV, the gallery) name their files.
  await page.getByText('Predictions per image').click();
  const rows = page.getByRole('table', { name: 'Test predictions' }).locator('tbody tr');
  await expect(rows).toHaveCount(6);
  for (const row of await rows.all()) {
    await expect(row).toHaveAttribute('data-path', /\/train\/(NORMAL|PNEUMONIA)\/(normal|pneumonia)-\d{3}\.png$/);
  }
  // The CSV says which split it holds, and names the files too.
  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download test predictions (CSV)' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('validation-predictions.csv');
  const csv = readFileSync(await download.path(), 'utf8')
    .trim()
    .split('\n');
  expect(csv).toHaveLength(7);
  for (const line of csv.slice(1)) expect(line).toMatch(/^"?chest_xray\/train\/(NORMAL|PNEUMONIA)\//);

  // On a narrow window, long paths (here the zip's name and its folders) wrap after each folder, and a table still
  // too wide scrolls inside its own box (ScrollingTable): neither pushes out of its section.
  await page.setViewportSize({ width: 800, height: 900 });
  await page.getByLabel('Images to predict').setInputFiles(zipPath);
  await expect(page.getByRole('table', { name: 'Predictions', exact: true }).locator('tbody tr').first()).toContainText(
    'train_only.zip/chest_xray/train/',
  );
  for (const [table, section] of [
    ['Predictions', '6. Predict'],
    ['Test predictions', '5. Results'],
  ]) {
    const scroller = page.getByRole('table', { name: table, exact: true }).locator('xpath=..');
    await expect(scroller).toHaveClass('table-scroll');
    const scrollerBox = (await scroller.boundingBox())!;
    const sectionBox = (await page.getByRole('region', { name: section, exact: true }).boundingBox())!;
    expect(scrollerBox.x + scrollerBox.width, table).toBeLessThanOrEqual(sectionBox.x + sectionBox.width);
  }
  // Nor does anything else, the charts' tables for screen readers included: the page does not scroll sideways.
  await expectNoSidewaysScroll(page, 800);
});
