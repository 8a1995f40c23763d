import { expect, test, type Page } from '@playwright/test';
import { BlobReader, TextWriter, ZipReader } from '@zip.js/zip.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeImage } from '../scripts/syntheticZip';
import { expectStatus, loadExportedModel, writeSyntheticZip } from './helpers';

const SIZE = 32;

/** One text file of a downloaded zip. */
async function textIn(zip: Uint8Array, name: string): Promise<string> {
  const reader = new ZipReader(new BlobReader(new Blob([zip as Uint8Array<ArrayBuffer>])));
  try {
    const entry = (await reader.getEntries()).find((e) => e.filename === name);
    if (!entry || entry.directory) throw new Error(`${name} is missing from the downloaded zip`);
    return await entry.getData(new TextWriter());
  } finally {
    await reader.close();
  }
}

/**
 * Trains with `query` on a fresh synthetic archive and reloads the page once `reloadAfter` history rows show: the
 * archive (to load again), the history rows, and how many of them the reloaded page brought back.
 */
async function trainThenReload(page: Page, seed: number, query: string, reloadAfter: number) {
  const { zipPath } = await writeSyntheticZip(
    { seed, perClass: { train: 100, val: 6, test: 6 }, imageSize: SIZE },
    'xray-ensemble-resume-',
  );
  await page.goto(`/?size=${SIZE}&${query}`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const history = page.getByRole('table', { name: 'Training history' }).locator('tbody tr');
  await expect(history.nth(reloadAfter - 1)).toBeVisible({ timeout: 180_000 });
  await page.reload();
  await expect(history.first()).toBeVisible();
  return { zipPath, history, kept: await history.count() };
}

/** The dataset is never stored: loads it again, checks what Resume says it will do, and resumes to the end. */
async function resumeToEnd(page: Page, zipPath: string, hint: RegExp): Promise<void> {
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expect(page.getByRole('button', { name: 'Resume training' })).toBeEnabled();
  await expect(page.getByText(hint)).toBeVisible();
  await page.getByRole('button', { name: 'Resume training' }).click();
  await expectStatus(page, 'done', 180_000);
}

test('a snapshot ensemble of 2 trains as one run, says so in the Results and the model card, predicts, and loads back', async ({
  page,
  browser,
}) => {
  const { dir, zipPath, dataset } = await writeSyntheticZip(
    {
      seed: 5,
      perClass: { train: 24, val: 8, test: 8 },
      imageSize: SIZE,
      formats: { train: 'png' },
    },
    'xray-ensemble-',
  );
  const image = dataset.images.find((i) => i.split === 'test')!;
  const imagePath = join(dir, 'film.png');
  writeFileSync(imagePath, encodeImage(image.pixels, image.size, 'png'));

  await page.goto(`/?size=${SIZE}&epochs=2&batch=16`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await page.getByLabel('Snapshot ensemble').fill('2');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expectStatus(page, 'done', 180_000);

  await expect(page.getByRole('table', { name: 'Test metrics' })).toBeVisible();
  await expect(page.getByTestId('ensemble-summary')).toContainText(
    /A snapshot ensemble of 2 members saved as one model.*same epochs as one model.*times one member's predict time/,
  );

  await page.getByLabel('Images to predict').setInputFiles([imagePath]);
  await expect(page.getByRole('table', { name: 'Predictions' }).locator('tbody tr')).toHaveCount(1);

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download model' }).click();
  const modelZip = join(dir, 'model.zip');
  await (await download).saveAs(modelZip);
  const bytes = readFileSync(modelZip);
  const { model, metadata } = await loadExportedModel(bytes);
  expect(metadata.ensemble).toEqual({ kind: 'snapshot', members: 2 });
  expect(model.layers.at(-1)?.name).toBe('ensemble_average');
  model.dispose();
  expect(await textIn(bytes, 'model-card.md')).toContain('- Ensemble: A snapshot ensemble of 2 members');

  // Loaded back through `Model file` in a page of its own: recognised as an ensemble, and it predicts.
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await other.goto('/');
  await other.getByLabel('Model file').setInputFiles(modelZip);
  await expect(other.getByTestId('restored-note')).toContainText(/snapshot ensemble of 2 \w+ networks/);
  await other.getByLabel('Images to predict').setInputFiles([imagePath]);
  await expect(other.getByRole('table', { name: 'Predictions' }).locator('tbody tr')).toHaveCount(1);
  await fresh.close();
});

test('a snapshot-ensemble run reloaded mid-run resumes with its snapshots and stacks all 3', async ({ page }) => {
  // 15 epochs in 3 cycles of 5: cut short in the second cycle (the first snapshot stored by then), reloaded after
  // epoch 7 with 8 epochs to spare, however fast the machine trains.
  const { zipPath, history, kept } = await trainThenReload(page, 7, 'epochs=15&batch=8&snapshots=3', 7);
  expect(kept).toBeGreaterThanOrEqual(5);
  expect(kept).toBeLessThan(15);
  await resumeToEnd(page, zipPath, /to its 15 planned epochs \(More epochs is not used\)/);
  await expect(history).toHaveCount(15);
  await expect(page.getByTestId('ensemble-summary')).toContainText('A snapshot ensemble of 3 members');
});

test('fewer epochs than snapshots: the run trains a member an epoch and the Results say so', async ({ page }) => {
  const { zipPath } = await writeSyntheticZip(
    { seed: 9, perClass: { train: 16, val: 6, test: 6 }, imageSize: SIZE },
    'xray-ensemble-short-',
  );
  await page.goto(`/?size=${SIZE}&epochs=2&batch=16&snapshots=3`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expectStatus(page, 'done', 180_000);
  await expect(page.getByTestId('ensemble-note')).toHaveText(
    'Snapshot ensemble of 3 needs 3 epochs (one cycle each); with 2 epochs it trained 2 members.',
  );
  await expect(page.getByTestId('ensemble-summary')).toContainText('A snapshot ensemble of 2 members');
});

test('a seed ensemble of 2 trains two members one after another, says so, and predicts', async ({ page }) => {
  const { dir, zipPath, dataset } = await writeSyntheticZip(
    { seed: 11, perClass: { train: 24, val: 8, test: 8 }, imageSize: SIZE },
    'xray-seeds-',
  );
  const image = dataset.images.find((i) => i.split === 'test')!;
  const imagePath = join(dir, 'film.png');
  writeFileSync(imagePath, encodeImage(image.pixels, image.size, 'png'));

  await page.goto(`/?size=${SIZE}&epochs=2&batch=16&patience=0`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  // Both ensembles at once are refused in words at Train.
  await page.getByLabel('Seed ensemble').fill('2');
  await page.getByLabel('Snapshot ensemble').fill('2');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('cannot be combined');
  await page.getByRole('button', { name: 'Dismiss' }).click();
  await page.getByLabel('Snapshot ensemble').fill('1');
  // The summary shows the model that will be saved: the stacked one, ending with its averaging layer.
  await expect(page.getByRole('table', { name: 'Model summary' })).toContainText('ensemble_average');

  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expectStatus(page, 'done', 180_000);
  // The run's outcome names the second member (the live `Member 2 of 2.` label lasts only while it trains, which on
  // this tiny set can be shorter than a poll; chartText.test.ts checks that label).
  await expect(page.getByText(/^Member 2 of 2 \(the run's epochs 3 to 4\):/)).toBeVisible();
  // Each member's 2 epochs in its own span of the run's 4.
  await expect(page.getByRole('table', { name: 'Training history' }).locator('tbody tr')).toHaveCount(4);
  await expect(page.getByTestId('ensemble-summary')).toContainText(
    /A seed ensemble of 2 members saved as one model: .*it took \d+\.\d times one member's training time.*times one member's predict time/,
  );
  await page.getByLabel('Images to predict').setInputFiles([imagePath]);
  await expect(page.getByRole('table', { name: 'Predictions' }).locator('tbody tr')).toHaveCount(1);
});

test('a seed-ensemble run reloaded in its second member resumes there and stacks both', async ({ page }) => {
  // 2 members of 8 epochs: the run's 16. Cut short in member 2 (member 1 stored beside the checkpoint by then), with
  // 7 epochs to spare: the reload lands in member 2 however fast the machine trains.
  const { zipPath, history, kept } = await trainThenReload(page, 13, 'epochs=8&batch=8&patience=0&seedModels=2', 9);
  expect(kept).toBeGreaterThanOrEqual(9);
  expect(kept).toBeLessThan(16);
  await resumeToEnd(page, zipPath, /in the member it was in \(8 epochs a member; More epochs is not used\)/);
  await expect(history).toHaveCount(16);
  // Its first member trained before the reload: the training cost is not claimed.
  await expect(page.getByTestId('ensemble-summary')).toContainText(
    /A seed ensemble of 2 members saved as one model: .*was not timed here/,
  );
});
