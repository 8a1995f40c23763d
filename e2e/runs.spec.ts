import { type Page } from '@playwright/test';
import Papa from 'papaparse';
import { expect, test, watchSecurityPolicy } from './fixtures';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeImage } from '../scripts/syntheticZip';
import {
  expectNoSidewaysScroll,
  expectStatus,
  metric,
  reportShown,
  trainTwoEpochsOn,
  writeSyntheticZip,
} from './helpers';

const SIZE = 32;

/** The `Predictions` table as rows of { file, predicted, probabilities by class }. */
async function readPredictions(page: Page): Promise<{ file: string; predicted: string; p: number[] }[]> {
  const table = page.getByRole('table', { name: 'Predictions' });
  const rows = [];
  for (const row of await table.locator('tbody tr').all()) {
    const cells = await row.locator('td').allInnerTexts();
    rows.push({ file: cells[0].trim(), predicted: cells[2].trim(), p: cells.slice(3).map(Number) });
  }
  return rows;
}

/** RFC 4180, quoted cells included (a reason holds commas). */
function parseCsv(text: string): string[][] {
  return Papa.parse<string[]>(text, { skipEmptyLines: true }).data;
}

async function historyLength(page: Page): Promise<number> {
  return page.getByRole('table', { name: 'Training history' }).locator('tbody tr').count();
}

test('a trained run survives a reload, predicts with Grad-CAM, resumes for one more epoch, and its download loads into a fresh page', async ({
  page,
  browser,
}) => {
  const { dir, zipPath, dataset } = await writeSyntheticZip(
    {
      seed: 5,
      perClass: { train: 40, val: 3, test: 8 },
      imageSize: SIZE,
      formats: { test: 'png' },
    },
    'xray-runs-',
  );
  // New images for Predict: the test images as loose PNGs (exactly the pixels the page decodes).
  const toPredict = dataset.images.filter((i) => i.split === 'test').slice(0, 6);
  const predictPaths = toPredict.map((image, k) => {
    const path = join(dir, `new_${k}_${image.className}.png`);
    writeFileSync(path, encodeImage(image.pixels, image.size, 'png'));
    return path;
  });

  await page.goto(`/?size=${SIZE}&epochs=2&batch=16&patience=0`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expectStatus(page, 'done', 180_000);
  await reportShown(page);
  const accuracy = await metric(page, 'Accuracy');
  const auc = await metric(page, 'AUC');
  expect(await historyLength(page)).toBe(2);
  // An evaluated image opens in Predict with where the model looked.
  // (A cell with images: a model this briefly trained may call every image one class.)
  await page
    .getByRole('button', { name: /^(NORMAL|PNEUMONIA) as (NORMAL|PNEUMONIA): [1-9]\d* images/ })
    .first()
    .click();
  await page
    .getByRole('button', { name: /^Where the model looked:/ })
    .first()
    .click();
  await expect(
    page.getByRole('figure', { name: 'Selected prediction' }).getByRole('img', { name: /^Grad-CAM/ }),
  ).toBeVisible();

  // Saved once the list says so (the results and the kept model are written as the run ends).
  await expect(page.getByRole('list', { name: 'Runs' }).getByRole('listitem')).toHaveCount(1);
  await expect(page.getByRole('list', { name: 'Runs' }).getByRole('listitem')).toContainText('finished');
  // The list says what the Results report: accuracy at the threshold the rule chose on validation, not at 0.5.
  const threshold = Number(await page.getByTestId('operating-point').getAttribute('data-threshold'));
  await expect(page.getByRole('list', { name: 'Runs' }).getByRole('listitem')).toContainText(
    `test accuracy ${accuracy.toFixed(4)} at threshold ${Number(threshold.toPrecision(3))}, AUC ${auc.toFixed(4)}`,
  );

  // A reload brings the finished run back from the browser's storage: same figures, no training.
  await page.reload();
  await expectStatus(page, 'done');
  await expect(page.getByTestId('restored-note')).toContainText('Brought back');
  // A run trained by this version decoded its films as the page does now: no caution about an older decoding.
  await expect(page.getByTestId('restored-note')).not.toContainText('decoded');
  await reportShown(page);
  expect(await metric(page, 'Accuracy')).toBe(accuracy);
  expect(await metric(page, 'AUC')).toBe(auc);
  expect(await historyLength(page)).toBe(2);

  // Predict with the restored model: a row an image, each with a Grad-CAM heatmap, and a CSV that matches the table.
  await page.getByLabel('Images to predict').setInputFiles(predictPaths);
  const table = page.getByRole('table', { name: 'Predictions' });
  await expect(table.locator('tbody tr')).toHaveCount(toPredict.length);
  await expect(table.getByRole('img', { name: /^Grad-CAM/ })).toHaveCount(toPredict.length);
  const shown = await readPredictions(page);
  const csvDownload = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download predictions (CSV)' }).click();
  const csv = parseCsv(readFileSync(await (await csvDownload).path(), 'utf8'));
  // The model judges whether an image is unlike its training data: the CSV says so, and why, after the threshold.
  expect(csv[0]).toEqual([
    'file',
    'probability_NORMAL',
    'probability_PNEUMONIA',
    'predicted_class',
    'threshold',
    'unlike_training_data',
    'unlike_why',
  ]);
  expect(csv.slice(1).map((r) => r[0])).toEqual(shown.map((r) => r.file));
  csv.slice(1).forEach((r, i) => {
    expect(r[3]).toBe(shown[i].predicted);
    expect(r[6]).toMatch(r[5] === 'yes' ? /^Unlike the training data, most of all by / : /^$/);
    expect(['yes', 'no']).toContain(r[5]);
    expect(Math.abs(Number(r[2]) - shown[i].p[1])).toBeLessThan(1e-4);
  });

  // The model zip, for the fresh page below.
  const modelDownload = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download model' }).click();
  const modelZip = join(dir, 'model.zip');
  await (await modelDownload).saveAs(modelZip);

  // Resume needs the dataset (never stored): load it again, then one more epoch continues the history.
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'stopped');
  expect(await historyLength(page)).toBe(2);
  await page.getByLabel('More epochs').fill('1');
  await page.getByRole('button', { name: 'Resume training' }).click();
  await expectStatus(page, 'done', 180_000);
  expect(await historyLength(page)).toBe(3);
  await expect(page.getByRole('list', { name: 'Runs' }).getByRole('listitem')).toHaveCount(1);
  // Compared: settings and figures side by side, and the validation loss curves on one chart.
  await page.getByRole('list', { name: 'Runs' }).getByLabel('Compare').check();
  await expect(
    page.getByRole('table', { name: 'Compared runs' }).getByRole('row', { name: /^Epochs trained/ }),
  ).toContainText('3');
  await expect(
    page.getByRole('figure', { name: 'Compared runs: validation loss' }).locator('canvas, svg').first(),
  ).toBeVisible();
  // On a phone the comparison (a column a run) scrolls in its own box; the page does not scroll sideways.
  await expectNoSidewaysScroll(page, 360);
  await page.setViewportSize({ width: 1280, height: 720 });

  // A fresh page (its own storage) loads the downloaded zip and predicts what the page that made it predicted.
  const fresh = await browser.newContext();
  const freshReports = await watchSecurityPolicy(fresh);
  const other = await fresh.newPage();
  await other.goto('/');
  await other.getByLabel('Model file').setInputFiles(modelZip);
  await expect(other.getByRole('list', { name: 'Runs' }).getByRole('listitem')).toHaveCount(1);
  await expect(other.getByTestId('restored-note')).toContainText('classes NORMAL, PNEUMONIA, 32 × 32 px grey');
  // Its metadata.json says its films were decoded as the page decodes them: no caution.
  await expect(other.getByTestId('restored-note')).toContainText('evaluate it.');
  await expect(other.getByTestId('restored-note')).not.toContainText(
    'does not say how its training films were decoded',
  );
  await expect(other.getByRole('table', { name: 'Model summary' })).toBeVisible();
  await other.getByLabel('Images to predict').setInputFiles(predictPaths);
  await expect(other.getByRole('table', { name: 'Predictions' }).locator('tbody tr')).toHaveCount(toPredict.length);
  const csvOther = other.waitForEvent('download');
  await other.getByRole('button', { name: 'Download predictions (CSV)' }).click();
  const otherCsv = parseCsv(readFileSync(await (await csvOther).path(), 'utf8'));
  expect(otherCsv.slice(1).map((r) => r[0])).toEqual(csv.slice(1).map((r) => r[0]));
  otherCsv.slice(1).forEach((r, i) => expect(Math.abs(Number(r[2]) - Number(csv[i + 1][2]))).toBeLessThan(1e-5));
  await fresh.close();
  expect(freshReports).toEqual([]);
});

test('a training worker that dies mid-run keeps the finished epochs: the last one is back (early stopping off), and Resume continues once the data is loaded again', async ({
  page,
}) => {
  const { zipPath } = await writeSyntheticZip(
    { seed: 6, perClass: { train: 40, val: 3, test: 8 }, imageSize: SIZE },
    'xray-crash-',
  );
  // Many epochs: the run is still going whenever the test acts on it (it ends with the crash).
  await page.goto(`/?size=${SIZE}&epochs=300&batch=8&patience=0`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const history = page.getByRole('table', { name: 'Training history' }).locator('tbody tr');
  await expect(history.first()).toBeVisible({ timeout: 120_000 });
  // Pause holds the run between batches (nothing moves), Continue lets it go on.
  await page.getByRole('button', { name: 'Pause' }).click();
  await expectStatus(page, 'paused');
  const progress = page.getByRole('progressbar', { name: 'Training' });
  // The batch under way when Pause was pressed still finishes; then the worker says it holds.
  const summary = page.getByTestId('training-summary');
  await expect(summary).toHaveText(/^Paused after batch \d+ of \d+\./);
  const heldBatch = /^Paused after batch (\d+)/.exec((await summary.textContent()) ?? '')![1];
  const heldAt = await progress.getAttribute('aria-valuenow');
  expect(heldAt).toBe(heldBatch);
  const heldEpochs = await history.count();
  // Nothing moves while held (src/worker/pause.test.ts counts the held run's turns without a clock).
  await expect(summary).toHaveText(new RegExp(`^Paused after batch ${heldBatch} of`));
  expect(await progress.getAttribute('aria-valuenow')).toBe(heldAt);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect.poll(() => history.count(), { timeout: 120_000 }).toBeGreaterThan(Math.max(heldEpochs, 1));
  // The worker dies as it would out of memory: an error it does not catch (the page then ends it).
  const worker = page.workers().find((w) => w.url().includes('train.worker'));
  expect(worker, 'the training worker').toBeTruthy();
  await worker!.evaluate(() =>
    setTimeout(() => {
      throw new Error('simulated out-of-memory');
    }),
  );
  // Early stopping off (patience 0): the model it would have kept is its last finished epoch, not validation's best.
  await expect(page.getByRole('alert')).toContainText(
    /What was trained is not lost: the last finished epoch \(\d+; early stopping was off\) is back/,
  );
  await expectStatus(page, 'stopped');
  const kept = await history.count();
  expect(kept).toBeGreaterThanOrEqual(2);
  await expect(page.getByRole('button', { name: 'Download model' })).toBeEnabled();
  await expect(page.getByRole('button', { name: 'Resume training' })).toBeDisabled();
  // The new worker has no data: load it again, and the run goes on from its last saved epoch.
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expect(page.getByRole('button', { name: 'Resume training' })).toBeEnabled();
  await page.getByLabel('More epochs').fill('1');
  await page.getByRole('button', { name: 'Resume training' }).click();
  await expectStatus(page, 'done', 120_000);
  await expect(history).toHaveCount(kept + 1);
});

test('a WebGL context lost mid-run: the run goes on by itself from its last finished epoch', async ({ page }) => {
  const { zipPath } = await writeSyntheticZip(
    { seed: 8, perClass: { train: 16, val: 3, test: 4 }, imageSize: SIZE },
    'xray-lost-',
  );
  await page.goto(`/?size=${SIZE}&epochs=4&batch=16&patience=0&backend=webgl`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  const { worker, history } = await trainTwoEpochsOn(page, 'webgl', 180_000);
  // As a driver reset would: the training worker's WebGL context goes.
  await worker.evaluate(() => {
    const engine = (
      globalThis as unknown as { _tfengine: { backendInstance: { gpgpu: { gl: WebGL2RenderingContext } } } }
    )._tfengine;
    engine.backendInstance.gpgpu.gl.getExtension('WEBGL_lose_context')?.loseContext();
  });
  await expect(page.getByRole('alert')).toContainText('Training goes on from the last finished epoch', {
    timeout: 120_000,
  });
  await expectStatus(page, 'done', 240_000);
  await expect(history).toHaveCount(4);
});
