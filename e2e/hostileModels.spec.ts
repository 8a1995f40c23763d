import { expect, test } from './fixtures';
import * as tf from '@tensorflow/tfjs';
import { BlobWriter, TextReader, Uint8ArrayReader, ZipWriter } from '@zip.js/zip.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSyntheticZip } from '../scripts/syntheticZip';
import { zipBomb } from '../src/data/zipBomb.testutil';
import { exportLayersModel } from '../src/model/layersFormat';
import { buildModel } from '../src/model/models';
import { expectStatus, readSummary } from './helpers';

const SIZE = 32;

async function zipOf(files: Record<string, string | Uint8Array>): Promise<Uint8Array> {
  const writer = new ZipWriter(new BlobWriter('application/zip'), { useWebWorkers: false });
  for (const [path, content] of Object.entries(files))
    await writer.add(path, typeof content === 'string' ? new TextReader(content) : new Uint8ArrayReader(content));
  return new Uint8Array(await (await writer.close()).arrayBuffer());
}

/** A real model of the app's (the tutorial network at 32 px), and the six hostile files made from it. */
async function modelFiles(
  dir: string,
): Promise<{ good: string; hostile: { kind: string; path: string; message: RegExp }[] }> {
  await tf.setBackend('cpu');
  const model = buildModel('tutorial', { imageSize: SIZE, numClasses: 2, learningRate: 0.001, seed: 1 });
  const { modelJson, weights } = await exportLayersModel(model);
  model.dispose();
  const bytes = new Uint8Array(weights);
  const metadata = { classNames: ['NORMAL', 'PNEUMONIA'], imageSize: SIZE, model: 'tutorial' };
  const files = { 'model.json': modelJson, 'weights.bin': bytes, 'metadata.json': JSON.stringify(metadata) };
  const json = JSON.parse(modelJson);
  const huge = structuredClone(json);
  huge.weightsManifest[0].weights[0].shape = [65536, 65536];
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  const made: [string, Uint8Array, RegExp][] = [
    [
      '65536 × 65536 weight',
      await zipOf({ ...files, 'model.json': JSON.stringify(huge) }),
      /65536 × 65536 values .* parameters a model may have/,
    ],
    [
      'weights cut short',
      await zipOf({ ...files, 'weights.bin': bytes.subarray(0, bytes.length - 1000) }),
      /cut short/,
    ],
    [
      'markup in class names',
      await zipOf({
        ...files,
        'metadata.json': JSON.stringify({ ...metadata, classNames: ['<img src=x onerror=alert(1)>', '<b>bold</b>'] }),
      }),
      /“<img src=x onerror=alert\(1\)>”, with markup/,
    ],
    ['JSON nested 200,000 deep', await zipOf({ ...files, 'model.json': deep }), /nested more than 64 levels deep/],
    [
      'all weights NaN',
      await zipOf({ ...files, 'weights.bin': new Uint8Array(new Float32Array(bytes.length / 4).fill(NaN).buffer) }),
      /are NaN or infinite/,
    ],
    ['zip bomb', zipBomb('model.json', 1024 ** 3), /model\.json is 1 GiB, over the 32 MiB limit/],
  ];
  const good = join(dir, 'model.zip');
  writeFileSync(good, await zipOf(files));
  return {
    good,
    hostile: made.map(([kind, zip, message], i) => {
      const path = join(dir, `hostile-${i}.zip`);
      writeFileSync(path, zip);
      return { kind, path, message };
    }),
  };
}

test('hostile model files are refused in words; the dataset stays, the page answers, a good model still loads', async ({
  page,
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'xray-hostile-model-'));
  const { good, hostile } = await modelFiles(dir);
  const dataset = join(dir, 'chest_xray.zip');
  writeFileSync(
    dataset,
    (await buildSyntheticZip({ seed: 3, perClass: { train: 10, val: 0, test: 2 }, imageSize: SIZE })).zip,
  );
  const problems: string[] = [];
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

  await page.goto(`/?size=${SIZE}`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(dataset);
  await expectStatus(page, 'ready');
  const summary = await readSummary(page);

  for (const { kind, path, message } of hostile) {
    await test.step(kind, async () => {
      await page.getByLabel('Model file').setInputFiles(path);
      await expect(page.getByRole('alert')).toContainText(/The model could not be loaded: /);
      await expect(page.getByRole('alert')).toContainText(message);
      // Markup is shown as text: no element was made from it.
      await expect(page.locator('main img[src="x"], main b')).toHaveCount(0);
      await page.getByRole('button', { name: 'Dismiss' }).click();
      await expect(page.getByRole('alert')).toHaveCount(0);
      await expectStatus(page, 'ready');
      expect(await readSummary(page)).toEqual(summary);
      await expect(page.getByRole('list', { name: 'Runs' }).getByRole('listitem')).toHaveCount(0);
    });
  }

  await page.getByLabel('Model file').setInputFiles(good);
  await expect(page.getByRole('list', { name: 'Runs' }).getByRole('listitem')).toHaveCount(1);
  await expect(page.getByTestId('restored-note')).toContainText('classes NORMAL, PNEUMONIA, 32 × 32 px grey');
  // Its metadata.json predates the decoding marker: the page says what that may mean.
  await expect(page.getByTestId('restored-note')).toContainText(
    'Its metadata.json does not say how its training films were decoded',
  );
  expect(await readSummary(page)).toEqual(summary);
  // The loaded model's stored run passes the checks on read: it is back after a reload.
  await page.reload();
  await expect(page.getByTestId('restored-note')).toContainText('Brought back from this browser');
  await expect(page.getByTestId('restored-note')).toContainText('does not say how its training films were decoded');
  await expect(page.getByRole('list', { name: 'Runs' }).getByRole('listitem')).toHaveCount(1);
  expect(problems).toEqual([]);
});
