import { expect, test, type Page } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeImage } from '../scripts/syntheticZip';
import { expectStatus, loadExportedModel, writeSyntheticZip } from './helpers';
import { OOD_LAYERS_WITH_DETAIL } from '../src/model/features';

const SIZE = 32;

/** The `Unlike training data` cell of each row of the `Predictions` table, by file name. */
async function unlikeByFile(page: Page): Promise<Record<string, string>> {
  const table = page.getByRole('table', { name: 'Predictions' });
  const headers = (await table.locator('thead th').allInnerTexts()).map((h) => h.trim());
  const column = headers.indexOf('Unlike training data');
  expect(column).toBeGreaterThan(2);
  const unlike: Record<string, string> = {};
  for (const row of await table.locator('tbody tr').all()) {
    const cells = await row.locator('td').allInnerTexts();
    unlike[cells[0].trim()] = cells[column].trim();
  }
  return unlike;
}

test('after training, Predict says a noise image is unlike the training data and a training image is not; so does the downloaded model', async ({
  page,
  browser,
}) => {
  const { dir, zipPath, dataset } = await writeSyntheticZip(
    {
      seed: 7,
      perClass: { train: 40, val: 10, test: 10 },
      imageSize: SIZE,
      formats: { train: 'png' },
    },
    'xray-ood-',
  );
  const trainImage = dataset.images.find((i) => i.split === 'train')!;
  const likePath = join(dir, 'like_training.png');
  writeFileSync(likePath, encodeImage(trainImage.pixels, trainImage.size, 'png'));
  // Uniform noise: no chest, no lungs, nothing the features of the training images look like.
  let state = 12345;
  const noise = Uint8Array.from({ length: SIZE * SIZE }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24;
  });
  const noisePath = join(dir, 'noise.png');
  writeFileSync(noisePath, encodeImage(noise, SIZE, 'png'));

  await page.goto(`/?size=${SIZE}&epochs=3&batch=16&patience=0`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expectStatus(page, 'done', 180_000);

  // Each evaluated split is judged: validation at the cut (about 5% by design), test measured.
  const summaries = page.getByTestId('ood-summary');
  await expect(summaries).toHaveCount(2);
  await expect(summaries.first()).toHaveAttribute('data-split', 'validation');
  await expect(summaries.first()).toHaveAttribute('data-images', '20');
  await expect(summaries.first()).toContainText(/^Validation: [01] of 20 images are unlike the training data/);
  await expect(summaries.nth(1)).toHaveAttribute('data-split', 'test');
  await expect(summaries.nth(1)).toContainText(/^Test: \d+ of 20 images are unlike the training data/);
  // The Results name the detector that judged: the default, not the last layer.
  const results = page.getByRole('region', { name: 'Unlike the training data' });
  await expect(results).toContainText('detector: several layers and image detail');

  await page.getByLabel('Images to predict').setInputFiles([likePath, noisePath]);
  await expect(page.getByRole('table', { name: 'Predictions' }).locator('tbody tr')).toHaveCount(2);
  expect(await unlikeByFile(page)).toEqual({ 'like_training.png': 'no', 'noise.png': 'yes' });
  await expect(page.getByTestId('predict-ood-summary')).toContainText('1 of 2 images are unlike the training data');
  // The default detector, named where it judges.
  await expect(page.getByTestId('predict-ood-summary')).toContainText('several layers and image detail');
  await expect(page.getByTestId('predict-ood-summary')).toContainText("the image's fine detail at four scales");
  // Why: noise is all fine detail, which the detail member (or a layer) gives the score; the enlarged image says it.
  await expect(page.getByTestId('predict-ood-summary')).toContainText(/Flagged most of all by [^.]+: 1\./);
  await page.getByRole('button', { name: 'Enlarge noise.png' }).click();
  await expect(page.getByRole('figure', { name: 'Selected prediction' }).getByTestId('unlike-why')).toHaveText(
    /^Unlike the training data, most of all by .+: \d+% of its score\.$/,
  );
  await page.getByRole('button', { name: 'Enlarge like_training.png' }).click();
  await expect(page.getByTestId('unlike-why')).toHaveCount(0);
  // Show: only the flagged images, or only the others; then all again.
  const show = page.getByRole('combobox', { name: 'Show', exact: true });
  const predictionRows = page.getByRole('table', { name: 'Predictions' }).locator('tbody tr');
  await show.selectOption({ label: 'unlike the training data' });
  await expect(predictionRows).toHaveCount(1);
  expect(await unlikeByFile(page)).toEqual({ 'noise.png': 'yes' });
  await show.selectOption({ label: 'like the training data' });
  await expect(predictionRows).toContainText(['like_training.png']);
  expect(await unlikeByFile(page)).toEqual({ 'like_training.png': 'no' });
  await show.selectOption({ label: 'all predictions' });
  await expect(predictionRows).toHaveCount(2);

  // The download carries the statistics (metadata.json and model.json), and a fresh page that loads it judges alike.
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download model' }).click();
  const modelZip = join(dir, 'model.zip');
  await (await download).saveAs(modelZip);
  const { metadata } = await loadExportedModel(readFileSync(modelZip));
  expect(metadata.outOfDistribution).toMatchObject({ method: 'mahalanobis-feature-ensemble', quantile: 0.95 });
  const layers = (metadata.outOfDistribution as { layers: { featureLayer: string; pooling: string }[] }).layers;
  expect(layers.map((l) => [l.featureLayer, l.pooling])).toEqual(
    OOD_LAYERS_WITH_DETAIL.map((l) => [l.name, l.pooling]),
  );
  // Its own storage: nothing of this page's run is brought back there.
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await other.goto('/');
  await other.getByLabel('Model file').setInputFiles(modelZip);
  await expect(other.getByTestId('restored-note')).toContainText('classes NORMAL, PNEUMONIA');
  await other.getByLabel('Images to predict').setInputFiles([likePath, noisePath]);
  await expect(other.getByRole('table', { name: 'Predictions' }).locator('tbody tr')).toHaveCount(2);
  expect(await unlikeByFile(other)).toEqual({ 'like_training.png': 'no', 'noise.png': 'yes' });
  await fresh.close();
});

test('with Unlike-training detector = last hidden layer only, the run judges with dense_1 alone and says so', async ({
  page,
}) => {
  const { zipPath } = await writeSyntheticZip(
    { seed: 8, perClass: { train: 30, val: 10, test: 10 }, imageSize: SIZE },
    'xray-ood-last-',
  );
  await page.goto(`/?size=${SIZE}&epochs=2&batch=16&patience=0&ood=last`);
  await expect(page.getByLabel('Unlike-training detector')).toHaveValue('last');
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expectStatus(page, 'done', 180_000);
  await expect(page.getByTestId('ood-summary')).toHaveCount(2);
  const section = page.getByRole('region', { name: 'Unlike the training data' });
  await expect(section).toContainText('detector: last hidden layer only');
  await expect(section).not.toContainText('feature ensemble');
});
