import { expect, type BrowserContext, type Locator, type Page, type Worker } from '@playwright/test';
import * as tf from '@tensorflow/tfjs';
import { BlobReader, TextWriter, Uint8ArrayWriter, ZipReader } from '@zip.js/zip.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSyntheticZip, type SyntheticZip, type SyntheticZipOptions } from '../scripts/syntheticZip';

/** Records every request the page and its workers make, so a test can prove nothing left the machine. */
export function recordRequests(context: BrowserContext): string[] {
  const urls: string[] = [];
  context.on('request', (request) => urls.push(request.url()));
  return urls;
}

/** Requests to anything but the page's own origin (blob: and data: URLs stay in the tab). */
export function foreignRequests(urls: string[], origin: string): string[] {
  return urls.filter((url) => !url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:'));
}

/**
 * A generated dataset (scripts/syntheticZip.ts) written as `name` into a new temporary folder named from `prefix`, for
 * the page's `Dataset` input: the folder (for a test's other files), the zip's path and the dataset.
 */
export async function writeSyntheticZip(
  options: SyntheticZipOptions,
  prefix = 'xray-e2e-',
  name = 'chest_xray.zip',
): Promise<{ dir: string; zipPath: string; dataset: SyntheticZip }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const dataset = await buildSyntheticZip(options);
  const zipPath = join(dir, name);
  writeFileSync(zipPath, dataset.zip);
  return { dir, zipPath, dataset };
}

export async function expectStatus(page: Page, status: string, timeout = 60_000): Promise<void> {
  await expect(page.getByTestId('status')).toHaveText(status, { timeout });
}

/** At a window `width` px wide (800 tall), the page does not scroll sideways: nothing in it is wider than the window. */
export async function expectNoSidewaysScroll(page: Page, width: number): Promise<void> {
  await page.setViewportSize({ width, height: 800 });
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
}

/**
 * Waits until the `Augmented samples` preview has drawn its first answer. The worker makes it with tensors of its own
 * while a run may already be training, so a test that compares the worker's tensor count at each epoch's end starts
 * training only after it (a late preview held 3 tensors at the first epoch's end on a busy machine).
 */
export async function expectAugmentedSamplesShown(page: Page): Promise<void> {
  const figure = page.getByRole('figure', { name: 'Augmented samples' });
  await expect(figure).not.toHaveAttribute('data-preview-id', '0');
  await expect(figure).toHaveAttribute('aria-busy', 'false');
}

/** The `Dataset summary` table as { split: { className: count } }. */
export async function readSummary(page: Page): Promise<Record<string, Record<string, number>>> {
  const table = page.getByRole('table', { name: 'Dataset summary' });
  const headers = await table.locator('thead th').allInnerTexts();
  const result: Record<string, Record<string, number>> = {};
  for (const row of await table.locator('tbody tr').all()) {
    const split = (await row.locator('th').innerText()).trim();
    const cells = await row.locator('td').allInnerTexts();
    result[split] = Object.fromEntries(headers.slice(1).map((h, i) => [h.trim(), Number(cells[i])]));
  }
  return result;
}

/** Value of a row of the `Test metrics` table. */
/**
 * Waits until the Results show the worker's report: the figures at the threshold rule's operating point, with
 * intervals. Until then (a moment after `done`) the table shows the run's own figures at 0.5.
 */
export async function reportShown(page: Page): Promise<void> {
  await expect(page.getByTestId('operating-point')).toHaveAttribute('aria-busy', 'false', { timeout: 60_000 });
}

export async function metric(page: Page, name: string): Promise<number> {
  const row = page.getByRole('table', { name: 'Test metrics' }).getByRole('row', { name: new RegExp(`^${name}\\b`) });
  // The figure is the cell's first number; its 95% interval may follow in brackets.
  return parseFloat(await row.locator('td').innerText());
}

/** Opens a downloaded model zip and loads it with tf.loadLayersModel, as a user of the export would. */
export async function loadExportedModel(
  zip: Uint8Array,
): Promise<{ model: tf.LayersModel; metadata: Record<string, unknown>; names: string[] }> {
  const reader = new ZipReader(new BlobReader(new Blob([zip as Uint8Array<ArrayBuffer>])));
  const entries = await reader.getEntries();
  const byName = new Map(entries.map((e) => [e.filename, e]));
  const text = async (name: string) => {
    const entry = byName.get(name);
    if (!entry || entry.directory) throw new Error(`${name} is missing from the downloaded zip`);
    return entry.getData(new TextWriter());
  };
  const modelJson = JSON.parse(await text('model.json'));
  const metadata = JSON.parse(await text('metadata.json'));
  const weightFiles: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const path of group.paths) {
      const entry = byName.get(path);
      if (!entry || entry.directory) throw new Error(`${path} is missing from the downloaded zip`);
      weightFiles.push(await entry.getData(new Uint8ArrayWriter()));
    }
  }
  await reader.close();
  const weightData = new Uint8Array(weightFiles.reduce((n, w) => n + w.byteLength, 0));
  let offset = 0;
  for (const w of weightFiles) {
    weightData.set(w, offset);
    offset += w.byteLength;
  }
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
      weightData: weightData.buffer,
      format: modelJson.format,
      generatedBy: modelJson.generatedBy,
      convertedBy: modelJson.convertedBy,
    }),
  };
  const model = await tf.loadLayersModel(handler);
  return { model, metadata, names: [...byName.keys()] };
}

// Long tasks are recorded the same way by the e2e tests and bench:accuracy.
/**
 * For a GPU lost mid-run: presses Train and waits for two epochs in the `Training history` (the first epoch's
 * checkpoint, sent before the second epoch's batches, is then surely in the page) on `backend`. Gives the training
 * worker (tfjs' engine is a global of it: its GPU can be taken away there) and the history's rows.
 */
export async function trainTwoEpochsOn(
  page: Page,
  backend: string,
  timeout: number,
): Promise<{ worker: Worker; history: Locator }> {
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const history = page.getByRole('table', { name: 'Training history' }).locator('tbody tr');
  await expect.poll(() => history.count(), { timeout }).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId('backend')).toHaveText(backend);
  const worker = page.workers().find((w) => w.url().includes('train.worker'));
  if (!worker) throw new Error('no training worker');
  return { worker, history };
}

export {
  describeFrame,
  describeTask,
  longFrames,
  longTaskDetails,
  longTasks,
  pageNow,
  recordLongTasks,
} from '../scripts/longTasks';
