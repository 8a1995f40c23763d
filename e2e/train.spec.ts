import { expect, test } from './fixtures';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_NAMES } from '../src/core/types';
import { SETTINGS } from '../src/core/settings';
import {
  describeFrame,
  describeTask,
  expectStatus,
  foreignRequests,
  loadExportedModel,
  longFrames,
  longTaskDetails,
  longTasks,
  metric,
  pageNow,
  readSummary,
  recordLongTasks,
  recordRequests,
  writeSyntheticZip,
} from './helpers';

const SIZE = 32;
const DEFAULT_MODEL = SETTINGS.model.default;
/**
 * The longest main-thread task allowed from the drop to the download: issue 12 asks for none over 50 ms. Charts draw in
 * tasks of a few ms (ui/common/charts/embedInTasks.ts), loading works in slices, and unchanged panels do not re-render.
 * On the shared 2-core machine, the page's thread competes with the training worker's two threads for the cores,
 * so what a task's script takes can double there; the long tasks and their scripts are printed to see why.
 */
const LONGEST_TASK_MS = 50;

/** `N tasks over 50 ms, longest L ms (…)` for the log. */
function tasksLine(tasks: number[]): string {
  return tasks.length
    ? `${tasks.length} tasks over 50 ms, longest ${Math.max(...tasks)} ms (${tasks.join(', ')})`
    : 'no task over 50 ms';
}

// @alone (playwright.config.ts): it times the page's main thread, so it runs when no other test trains beside it.
test(
  'load a zip, see the data, train live, evaluate and download a model that predicts as the page does',
  {
    tag: '@alone',
  },
  async ({ page, context, baseURL }) => {
    const requests = recordRequests(context);
    // Test images are lossless PNGs at exactly the model's size, so Node sees the very pixels the page saw.
    const { dir, zipPath, dataset } = await writeSyntheticZip({
      seed: 3,
      perClass: { train: 40, val: 3, test: 8 },
      imageSize: SIZE,
      formats: { test: 'png' },
      junk: true,
    });

    await recordLongTasks(page);
    // The fixed rule (not the default) so the figures below are at 0.5; the other rules are switched to later.
    await page.goto(`/?size=${SIZE}&epochs=2&batch=16&rule=fixed`);
    await expectStatus(page, 'idle');
    const droppedAt = await pageNow(page);
    await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
    await expectStatus(page, 'ready');

    // What was found: counts per split folder and class; junk skipped with reasons.
    expect(await readSummary(page)).toEqual({
      train: { NORMAL: 40, PNEUMONIA: 40, total: 80 },
      validation: { NORMAL: 3, PNEUMONIA: 3, total: 6 },
      test: { NORMAL: 8, PNEUMONIA: 8, total: 16 },
    });
    await expect(page.getByTestId('validation-source')).toContainText('10%');
    await expect(page.getByText(/Skipped \d+ entr/)).toContainText('__MACOSX');
    await expect(
      page.getByRole('figure', { name: 'Class counts: train' }).locator('canvas, svg').first(),
    ).toBeVisible();
    const samples = page.getByRole('figure', { name: 'Sample images' }).getByRole('img');
    await expect(samples).toHaveCount(24);
    await expect(
      page.getByRole('figure', { name: 'Sample images' }).getByText('PNEUMONIA', { exact: true }).first(),
    ).toBeVisible();

    // The default model's summary at 32 px. Tutorial: 20,768 conv + 32*64+64 dense + 65 output parameters;
    // batchnorm: the same less the convolutions' 160 biases, plus 4 a channel of BatchNormalization (640).
    await expect(page.getByTestId('total-params')).toHaveText(
      { tutorial: '22,945', batchnorm: '23,425' }[DEFAULT_MODEL],
    );

    const trainingFrom = await pageNow(page);
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    const progress = page.getByRole('progressbar', { name: 'Training' });
    await expect(progress).not.toHaveAttribute('aria-valuenow', '0');
    await expect(page.getByRole('figure', { name: 'Loss curves' })).not.toHaveAttribute('data-points', '0');
    await expect(page.getByTestId('throughput')).toHaveText(/^\d+(\.\d+)? images\/s/);
    await expect(page.getByTestId('backend')).toHaveText(/webgl|cpu|wasm|webgpu/);
    await expectStatus(page, 'done', 180_000);
    // The page stays responsive while the worker trains: each batch re-renders the training panel alone and the
    // curves take only the new points (before, every batch re-rendered the whole page: tasks of up to 600 ms here).
    const slow = await longTasks(page, trainingFrom);
    console.log(`Main-thread tasks from Train to the results: ${tasksLine(slow)}`);
    expect(Math.max(0, ...slow)).toBeLessThanOrEqual(LONGEST_TASK_MS);
    await expect(progress).toHaveAttribute('aria-valuenow', (await progress.getAttribute('aria-valuemax')) as string);
    const history = page.getByRole('table', { name: 'Training history' });
    await expect(history.locator('tbody tr')).toHaveCount(2);
    // Balanced classes (39 a class after the validation hold-out): weights of 1.
    await expect(page.getByTestId('class-weights')).toHaveText('NORMAL 1.00, PNEUMONIA 1.00');
    // The best epoch (lowest validation loss) is marked in the table, on the curves and in words.
    const bestRow = history.locator('tbody tr[aria-current="true"]');
    await expect(bestRow).toHaveCount(1);
    await expect(bestRow.locator('td').last()).toHaveText('best');
    const bestEpoch = (await bestRow.locator('td').first().innerText()).trim();
    await expect(page.getByRole('figure', { name: 'Loss curves' })).toHaveAttribute('data-best-epoch', bestEpoch);
    // Early stopping is off by default (patience 0, with the default acquisition augmentation): the last epoch is kept.
    await expect(page.getByTestId('early-stopping')).toHaveText(
      `Early stopping was off (patience 0): the model keeps the weights of the last epoch, 2; epoch ${bestEpoch} had ` +
        'the lowest validation loss.',
    );
    for (const name of ['Loss curves', 'Accuracy curves']) {
      const figure = page.getByRole('figure', { name });
      await expect(figure.locator('canvas, svg').first()).toBeVisible();
      await expect(figure).not.toContainText('could not be drawn');
    }

    const accuracy = await metric(page, 'Accuracy');
    expect(accuracy).toBeGreaterThanOrEqual(0);
    expect(accuracy).toBeLessThanOrEqual(1);
    expect(await metric(page, 'Loss')).toBeGreaterThan(0);
    for (const name of ['AUC', 'Sensitivity', 'Specificity']) {
      const value = await metric(page, name);
      expect(value, name).toBeGreaterThanOrEqual(0);
      expect(value, name).toBeLessThanOrEqual(1);
    }
    const matrixCells = async () =>
      (await page.getByRole('table', { name: 'Confusion matrix' }).locator('tbody td').allInnerTexts()).map(Number);
    expect((await matrixCells()).reduce((a, b) => a + b, 0)).toBe(16);
    // Raising the threshold can only trade sensitivity for specificity, and the matrix follows live.
    const sensitivityAtHalf = await metric(page, 'Sensitivity');
    const specificityAtHalf = await metric(page, 'Specificity');
    await page.getByRole('slider', { name: 'Decision threshold' }).fill('0.99');
    await expect(page.getByText('Decision threshold: 0.99')).toBeVisible();
    expect(await metric(page, 'Sensitivity')).toBeLessThanOrEqual(sensitivityAtHalf);
    expect(await metric(page, 'Specificity')).toBeGreaterThanOrEqual(specificityAtHalf);
    const [, fp, fn, tp] = await matrixCells();
    expect(fn + tp).toBe(8);
    // The tfjs-vis heatmap shows the same matrix.
    await expect(page.getByRole('figure', { name: 'Confusion matrix heatmap' })).toHaveAttribute(
      'data-cells',
      (await matrixCells()).join(','),
    );
    await expect(
      page.getByRole('figure', { name: 'Confusion matrix heatmap' }).locator('canvas, svg').first(),
    ).toBeVisible();
    // The gallery shows the images wrong at this threshold, named by true and predicted class.
    const gallery = page.getByRole('figure', { name: 'Misclassified images' });
    await expect(gallery.getByRole('img')).toHaveCount(Math.min(48, fp + fn));
    for (const name of await gallery
      .getByRole('img')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')))) {
      expect(name).toMatch(
        /^(NORMAL as PNEUMONIA|PNEUMONIA as NORMAL): chest_xray\/test\/\w+\/[\w.-]+ \(score (0|1)\.\d\d\)$/,
      );
    }
    await page.getByRole('slider', { name: 'Decision threshold' }).fill('0.5');
    await expect(page.getByRole('figure', { name: 'ROC curve' }).locator('canvas, svg').first()).toBeVisible();

    // The reported figures: at the threshold rule's choice on validation, with 95% intervals, beside validation's.
    const operatingPoint = page.getByTestId('operating-point');
    await expect(operatingPoint).toHaveAttribute('aria-busy', 'false');
    await expect(operatingPoint).toHaveText(/^Reported figures: threshold 0\.5, fixed at 0\.5, applied to test\./);
    const accuracyCell = page
      .getByRole('table', { name: 'Test metrics' })
      .getByRole('row', { name: /^Accuracy\b/ })
      .locator('td');
    await expect(accuracyCell).toHaveText(/^\d\.\d{4} \(\d\.\d{3}–\d\.\d{3}\)$/);
    const testAccuracy = await metric(page, 'Accuracy');
    expect(Number(await accuracyCell.getAttribute('data-low'))).toBeLessThanOrEqual(testAccuracy);
    expect(Number(await accuracyCell.getAttribute('data-high'))).toBeGreaterThanOrEqual(testAccuracy);
    await expect(page.getByRole('table', { name: 'Validation and test' })).toContainText('test (16 images');
    await expect(page.getByTestId('shift-warning')).toBeVisible();
    await expect(
      page.getByRole('figure', { name: 'Reliability diagram' }).locator('canvas, svg').first(),
    ).toBeVisible();
    // Another rule needs no retraining: the worker chooses again on validation and reports.
    await page.getByLabel('Threshold rule').selectOption('youden');
    await expect(operatingPoint).toHaveAttribute('data-rule', 'youden');
    await expect(operatingPoint).toContainText('chosen on validation by maximum Youden J, applied to test');
    await expect(page.getByRole('table', { name: 'Test metrics' }).locator('caption')).toContainText(
      '(chosen on validation by maximum Youden J)',
    );
    await expect(page).toHaveURL(/[?&]rule=youden/);
    await page.getByLabel('Threshold rule').selectOption('fixed');
    await expect(operatingPoint).toHaveAttribute('data-rule', 'fixed');
    // Test-time augmentation: the worker scores validation and test again (7 views an image) and reports; no retraining.
    await page.getByLabel('Test-time augmentation').selectOption('shift-scale');
    await expect(operatingPoint).toHaveAttribute('data-tta', 'shift-scale');
    await expect(operatingPoint).toHaveAttribute('aria-busy', 'false');
    await expect(operatingPoint).toContainText("each image's score is the mean over 7 views");
    await expect(page).toHaveURL(/[?&]tta=shift-scale/);
    await expect(page.getByRole('table', { name: 'Test metrics' }).getByRole('row', { name: /^AUC\b/ })).toBeVisible();
    await page.getByLabel('Test-time augmentation').selectOption('off');
    await expect(operatingPoint).toHaveAttribute('data-tta', 'off');
    await expect(operatingPoint).not.toContainText('Test-time augmentation');
    // A click on a confusion-matrix count shows that cell's images, whose pixels the worker sends on demand.
    const [tn] = await matrixCells();
    await page.getByRole('button', { name: /^NORMAL as NORMAL: \d+ images$/ }).click();
    const cellGallery = page.getByRole('figure', { name: 'Images: NORMAL as NORMAL' });
    await expect(cellGallery.getByRole('img')).toHaveCount(Math.min(48, tn));
    await cellGallery.getByRole('button', { name: 'Show misclassified images' }).click();
    await expect(page.getByRole('figure', { name: 'Misclassified images' })).toBeVisible();

    // The page's score for each test image.
    await page.getByText('Predictions per image').click();
    const pageScores = new Map<string, number>();
    for (const row of await page.getByRole('table', { name: 'Test predictions' }).locator('tbody tr').all()) {
      const path = (await row.getAttribute('data-path')) as string;
      pageScores.set(path, Number(await row.locator('td[data-score]').nth(1).getAttribute('data-score')));
    }
    expect(pageScores.size).toBe(16);

    const downloadPromise = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download model' }).click();
    const download = await downloadPromise;
    expect(download.suggestedFilename()).toMatch(/\.zip$/);
    const savedPath = join(dir, download.suggestedFilename());
    await download.saveAs(savedPath);
    // From the drop to the download: loading, training, the Results and what this test did with them.
    const fromDrop = await longTasks(page, droppedAt);
    console.log(`Main-thread tasks from the drop to the download: ${tasksLine(fromDrop)}`);
    // What ran in them (a task with no script in it waited for a core, or for the browser's own work).
    for (const frame of await longFrames(page, droppedAt)) console.log(`  long frame ${describeFrame(frame)}`);
    for (const task of await longTaskDetails(page, droppedAt)) console.log(`  long task ${describeTask(task)}`);
    expect(Math.max(0, ...fromDrop)).toBeLessThanOrEqual(LONGEST_TASK_MS);

    const { model, metadata, names } = await loadExportedModel(new Uint8Array(readFileSync(savedPath)));
    expect(names).toEqual(expect.arrayContaining(['model.json', 'weights.bin', 'metadata.json']));
    expect(metadata).toMatchObject({
      model: DEFAULT_MODEL,
      classNames: ['NORMAL', 'PNEUMONIA'],
      imageSize: SIZE,
      channels: 1,
    });
    // The operating point of the reported figures travels with the model.
    expect(metadata).toMatchObject({ threshold: 0.5, thresholdClass: 'PNEUMONIA', thresholdRule: 'fixed at 0.5' });
    expect(model.inputs[0].shape).toEqual([null, SIZE, SIZE, 1]);

    // Same images, same predictions, in Node.
    await tf.setBackend('cpu');
    const testImages = dataset.images.filter((image) => image.split === 'test');
    expect(testImages).toHaveLength(16);
    for (const image of testImages) {
      const pageScore = pageScores.get(image.path);
      expect(pageScore, `page shows a score for ${image.path}`).toBeDefined();
      const score = tf.tidy(() => {
        const x = tf.tensor4d(
          Float32Array.from(image.pixels, (v) => v / 255),
          [1, SIZE, SIZE, 1],
        );
        return (model.predict(x) as tf.Tensor).dataSync()[0];
      });
      expect(Math.abs(score - (pageScore as number)), image.path).toBeLessThan(1e-3);
    }

    expect(foreignRequests(requests, baseURL as string)).toEqual([]);
  },
);

test('Stop ends training early and keeps the model', async ({ page }) => {
  await page.goto(`/?size=${SIZE}&epochs=50&batch=8`);
  await page.getByRole('button', { name: 'Try demo dataset' }).click();
  await expectStatus(page, 'ready');
  await expect(page.getByRole('figure', { name: 'Sample images' }).getByRole('img')).toHaveCount(24);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const progress = page.getByRole('progressbar', { name: 'Training' });
  await expect(progress).toHaveAttribute('aria-valuenow', /^([3-9]|\d\d+)$/);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expectStatus(page, 'stopped', 120_000);
  const done = Number(await progress.getAttribute('aria-valuenow'));
  expect(done).toBeLessThan(Number(await progress.getAttribute('aria-valuemax')));
  await expect(page.getByRole('table', { name: 'Test metrics' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Download model' })).toBeEnabled();
});

test('the Model select changes the summary, the description and the URL', async ({ page }) => {
  const select = page.getByRole('combobox', { name: 'Model', exact: true });
  await page.goto(`/?size=${SIZE}&model=tutorial`);
  await expect(select).toHaveValue('tutorial');
  await expect(page.getByTestId('total-params')).toHaveText('22,945');
  await expect(page.getByTestId('model-description')).toContainText("The Keras tutorial's CNN");
  await select.selectOption('batchnorm');
  // The convolutions' 160 biases go; 4 numbers a channel of BatchNormalization (160 channels) come.
  await expect(page.getByTestId('total-params')).toHaveText('23,425');
  await expect(page.getByRole('table', { name: 'Model summary' })).toContainText('BatchNormalization');
  await expect(page.getByTestId('model-description')).toContainText('BatchNormalization');
  // The URL keeps what differs from the defaults.
  const other = MODEL_NAMES.find((m) => m !== DEFAULT_MODEL) ?? DEFAULT_MODEL;
  await select.selectOption(other);
  await expect(page).toHaveURL(new RegExp(`[?&]model=${other}`));
  await select.selectOption(DEFAULT_MODEL);
  await expect(page).not.toHaveURL(/[?&]model=/);
});
