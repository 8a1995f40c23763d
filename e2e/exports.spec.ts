import { type Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { BlobReader, Uint8ArrayWriter, ZipReader } from '@zip.js/zip.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-web';
import * as tf from '@tensorflow/tfjs';
import { encodeImage } from '../scripts/syntheticZip';
import { expectStatus, loadExportedModel, writeSyntheticZip } from './helpers';
import { judge } from '../src/eval/outOfDistribution';
import { checkOodDetector } from '../src/eval/oodDetectorCheck';

const SIZE = 32;
const PYTHON = '/usr/bin/python3';
const has = (modules: string) => spawnSync(PYTHON, ['-c', `import ${modules}`], { stdio: 'ignore' }).status === 0;
/** The PyTorch bundle's modules in the repository (train.py runs them), as the bundle names them. */
const BUNDLE_MODULES = readdirSync(new URL('../src/export/pytorch/xray_trainer/', import.meta.url))
  .filter((name) => name.endsWith('.py'))
  .map((name) => `xray_trainer/${name}`);

async function download(page: Page, format: string, dir: string): Promise<{ path: string; name: string }> {
  await page.getByLabel('Model format').selectOption({ label: format });
  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download model' }).click();
  const file = await pending;
  const path = join(dir, file.suggestedFilename());
  await file.saveAs(path);
  return { path, name: file.suggestedFilename() };
}

async function unzip(path: string): Promise<Map<string, Uint8Array>> {
  const reader = new ZipReader(new BlobReader(new Blob([readFileSync(path)])));
  const files = new Map<string, Uint8Array>();
  for (const entry of await reader.getEntries())
    if (!entry.directory) files.set(entry.filename, await entry.getData(new Uint8ArrayWriter()));
  await reader.close();
  return files;
}

/** The JavaScript the model card gives a plain TensorFlow.js user (its ```js block), without its import line. */
function cardCode(card: Uint8Array): string {
  const code = /```js\n([\s\S]*?)```/.exec(new TextDecoder().decode(card))?.[1];
  if (!code) throw new Error('model-card.md has no ```js block');
  return code.replace(/^import .*$/m, '');
}

for (const norm of ['none', 'per-image'] as const)
  test(`every model format is made in the page, loads in a runtime that did not write it, and predicts what the page predicts (intensity normalisation ${norm})`, async ({
    page,
  }) => {
    const { dir, zipPath, dataset } = await writeSyntheticZip(
      {
        seed: 9,
        perClass: { train: 30, val: 3, test: 6 },
        imageSize: SIZE,
        formats: { test: 'png' },
      },
      'xray-formats-',
    );
    const tests = dataset.images.filter((i) => i.split === 'test');
    // And uniform noise, which the out-of-distribution detector should call unlike the training data.
    let state = 12345;
    const noise = tests[0].pixels.map(() => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state >>> 24;
    });
    const images = [...tests, { ...tests[0], pixels: noise }];
    const paths = images.map((image, k) => {
      const path = join(dir, `image_${k}.png`);
      writeFileSync(path, encodeImage(image.pixels, image.size, 'png'));
      return path;
    });
    // The page's inputs: grey / 255, NHWC.
    const input = new Float32Array(images.length * SIZE * SIZE);
    images.forEach((image, k) => image.pixels.forEach((v, i) => (input[k * SIZE * SIZE + i] = v / 255)));

    await page.goto(`/?size=${SIZE}&epochs=1&batch=16&norm=${norm}`);
    await expect(page.getByRole('table', { name: 'Model summary' })).toContainText(
      norm === 'per-image' ? 'PerImageStandardization' : 'Conv2D',
    );
    if (norm === 'none')
      await expect(page.getByRole('table', { name: 'Model summary' })).not.toContainText('PerImageStandardization');
    await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
    await expectStatus(page, 'ready');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expectStatus(page, 'done', 180_000);

    // Test-time adaptation, on request: the test figures again with BatchNorm re-estimated on the test images.
    await page.getByRole('button', { name: 'Adapt BatchNorm to the test images' }).click();
    await expect(
      page.getByRole('table', { name: 'Adapted BatchNorm' }).getByRole('row', { name: /^AUC/ }),
    ).toBeVisible();

    // The page's own answers for these images (the Predict table is sorted by file name for a fixed order).
    await page.getByLabel('Images to predict').setInputFiles(paths);
    const table = page.getByRole('table', { name: 'Predictions' });
    await expect(table.locator('tbody tr')).toHaveCount(images.length);
    await table.getByRole('button', { name: 'File' }).click();
    const pagePositive: number[] = [];
    const pageUnlike: string[] = [];
    const unlikeColumn = (await table.locator('thead th').allInnerTexts())
      .map((h) => h.trim())
      .indexOf('Unlike training data');
    expect(unlikeColumn).toBeGreaterThan(4);
    for (const row of await table.locator('tbody tr').all()) {
      const cells = await row.locator('td').allInnerTexts();
      pagePositive.push(Number(cells[4]));
      pageUnlike.push(cells[unlikeColumn].trim());
    }
    expect(pagePositive).toHaveLength(images.length);
    const close = (got: ArrayLike<number>, tolerance: number) =>
      Array.from(got).forEach((p, i) => expect(Math.abs(p - pagePositive[i]), `image ${i}`).toBeLessThan(tolerance));

    // TensorFlow.js: tfjs in Node.
    const tfjs = await download(page, 'TensorFlow.js', dir);
    expect(tfjs.name).toMatch(/\.zip$/);
    const tfjsFiles = await unzip(tfjs.path);
    expect([...tfjsFiles.keys()]).toEqual(expect.arrayContaining(['model-card.md', 'model-card.json']));
    // With the app's own layer, a plain tfjs user registers it as the model card says (Node's tfjs has no such class).
    if (norm === 'per-image') new Function('tf', cardCode(tfjsFiles.get('model-card.md')!))(tf);
    const { model, metadata } = await loadExportedModel(readFileSync(tfjs.path));
    expect(model.layers[0].getClassName()).toBe(norm === 'per-image' ? 'PerImageStandardization' : 'Conv2D');
    close((model.predict(tf.tensor4d(input, [images.length, SIZE, SIZE, 1])) as tf.Tensor).dataSync(), 1e-4);

    // ONNX: onnxruntime (WebAssembly, in Node).
    const onnx = await download(page, 'ONNX', dir);
    expect(onnx.name).toBe(`xray-classifier-${SIZE}px-onnx.zip`);
    const onnxFiles = await unzip(onnx.path);
    expect([...onnxFiles.keys()].sort()).toEqual([
      'model-card.json',
      'model-card.md',
      `xray-classifier-${SIZE}px.onnx`,
    ]);
    ort.env.wasm.numThreads = 1;
    const onnxBytes = onnxFiles.get(`xray-classifier-${SIZE}px.onnx`)!;
    const session = await ort.InferenceSession.create(onnxBytes);
    const out = await session.run({ image: new ort.Tensor('float32', input, [images.length, SIZE, SIZE, 1]) });
    close(out.probabilities.data as Float32Array, 1e-4);
    // Its `features` output, judged by the statistics the download carries, says what the page said of each image.
    const judged = judge(checkOodDetector(metadata.outOfDistribution), out.features.data as Float32Array);
    expect(Array.from(judged.distances, (d) => (d > judged.threshold ? 'yes' : 'no'))).toEqual(pageUnlike);

    // Keras HDF5: read with h5py and run in numpy with Keras' layer semantics (Keras itself is not installable here).
    const kerasZip = await download(page, 'Keras HDF5', dir);
    expect(kerasZip.name).toBe(`xray-classifier-${SIZE}px-keras.zip`);
    const kerasFiles = await unzip(kerasZip.path);
    const customLayers = norm === 'per-image' ? ['per_image_standardization.py'] : [];
    expect([...kerasFiles.keys()].sort()).toEqual(
      ['model-card.json', 'model-card.md', ...customLayers, `xray-classifier-${SIZE}px.h5`].sort(),
    );
    for (const name of customLayers) writeFileSync(join(dir, name), kerasFiles.get(name)!);
    const keras = { path: join(dir, `xray-classifier-${SIZE}px.h5`) };
    writeFileSync(keras.path, kerasFiles.get(`xray-classifier-${SIZE}px.h5`)!);
    if (has('h5py, numpy')) {
      const imagesJson = join(dir, 'images.json');
      writeFileSync(imagesJson, JSON.stringify({ shape: [images.length, SIZE, SIZE, 1], data: Array.from(input) }));
      const extra = customLayers.flatMap((name) => ['--custom-layers', join(dir, name)]);
      const run = spawnSync(PYTHON, ['test/keras_forward.py', keras.path, imagesJson, ...extra], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout) as { predictions: number[][]; ood: { unlike: boolean[] } };
      close(
        result.predictions.map((p) => p[0]),
        1e-4,
      );
      // The file's layers and xray_trainer_metadata judge each image as the page did.
      expect(result.ood.unlike.map((u) => (u ? 'yes' : 'no'))).toEqual(pageUnlike);
    } else {
      test
        .info()
        .annotations.push({ type: 'skipped', description: 'Keras HDF5 numbers: /usr/bin/python3 lacks h5py or numpy' });
    }

    // PyTorch bundle: its files, and its model.zip run by train.py in PyTorch.
    const bundle = await download(page, 'PyTorch bundle', dir);
    expect(bundle.name).toMatch(/\.zip$/);
    const files = await unzip(bundle.path);
    expect([...files.keys()].sort()).toEqual(
      [
        'README.md',
        'manifest.csv',
        'model-card.json',
        'model-card.md',
        'model.zip',
        'settings.json',
        'train.py',
        ...BUNDLE_MODULES,
      ].sort(),
    );
    const manifest = new TextDecoder().decode(files.get('manifest.csv')).trim().split('\n');
    expect(manifest[0]).toBe('path,split,class,group');
    expect(manifest).toHaveLength(1 + 60 + 6 + 12);
    if (has('torch, numpy, PIL')) {
      // train.py and the modules it runs, as the bundle lays them out.
      for (const name of ['train.py', ...BUNDLE_MODULES]) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), files.get(name)!);
      }
      const trainPy = join(dir, 'train.py');
      writeFileSync(join(dir, 'bundle-model.zip'), files.get('model.zip')!);
      const run = spawnSync(PYTHON, [trainPy, '--predict', join(dir, 'bundle-model.zip'), '--images', ...paths], {
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(0);
      const predicted = (JSON.parse(run.stdout) as { images: { probabilities: number[] }[] }).images.map(
        (i) => i.probabilities[i.probabilities.length - 1],
      );
      close(predicted, 1e-4);

      // The way back (torchrun trains from the bundle; its model.zip is the app's format, predicting as PyTorch does)
      // is src/export/pytorchTraining.test.ts's: running torchrun here too cost CI a second distributed run.
    } else {
      test.info().annotations.push({
        type: 'skipped',
        description: 'PyTorch numbers: /usr/bin/python3 lacks torch, numpy or Pillow',
      });
    }
  });
