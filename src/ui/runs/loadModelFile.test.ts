import { BlobWriter, TextReader, Uint8ArrayReader, ZipWriter } from '@zip.js/zip.js';
import { describe, expect, it } from 'vitest';
import { zipBomb } from '../../data/zipBomb.testutil';
import { INPUT_DECODING } from '../../core/inputDecoding';
import { mulberry32 } from '../../core/random';
import { MODEL_FILE_LIMITS } from '../../data/modelFileChecks';
import { fitFeatureEnsembleDetector } from '../../eval/featureEnsemble';
import { MAX_MODEL_JSON_CHARS } from '../../storage/runRecord';
import { readModelFile } from './loadModelFile';

/** The feature ensemble's layers (model/features.ts' OOD_LAYERS) and their widths in a single network. */
const OOD_LAYERS_WIDTHS: [string, number][] = [
  ['max_pooling2d_1', 32],
  ['max_pooling2d_2', 32],
  ['max_pooling2d_3', 64],
  ['max_pooling2d_4', 32],
  ['dense_1', 64],
];

const topology = {
  class_name: 'Sequential',
  config: {
    layers: [
      { class_name: 'Conv2D', config: { batch_input_shape: [null, 40, 40, 1] } },
      { class_name: 'Dense', config: { units: 1 } },
    ],
  },
};
interface Spec {
  name: string;
  shape: number[];
  dtype: string;
}
const modelJson = (paths: string[], weights: Spec[] = [{ name: 'w', shape: [3], dtype: 'float32' }]) =>
  JSON.stringify({ modelTopology: { model_config: topology }, weightsManifest: [{ paths, weights }] });
const floats = (...values: number[]) => new Uint8Array(new Float32Array(values).buffer);
const metadata = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ classNames: ['NORMAL', 'PNEUMONIA'], imageSize: 40, ...extra });

async function zipOf(files: Record<string, string | Uint8Array>, name = 'model.zip', level = 6): Promise<File> {
  const writer = new ZipWriter(new BlobWriter('application/zip'), { useWebWorkers: false, level });
  for (const [path, content] of Object.entries(files))
    await writer.add(path, typeof content === 'string' ? new TextReader(content) : new Uint8ArrayReader(content));
  return new File([await writer.close()], name);
}

describe('Load model', () => {
  it('reads a Download model zip: its weights joined in manifest order, its metadata', async () => {
    const file = await zipOf({
      'model.json': modelJson(
        ['a.bin', 'b.bin'],
        [
          { name: 'a', shape: [2], dtype: 'float32' },
          { name: 'b', shape: [1], dtype: 'float32' },
        ],
      ),
      'a.bin': floats(1, 2),
      'b.bin': floats(3),
      'metadata.json': metadata({ model: 'batchnorm', threshold: 0.4, thresholdClass: 'PNEUMONIA' }),
    });
    const loaded = await readModelFile([file]);
    expect(Array.from(new Float32Array(loaded.files.weights))).toEqual([1, 2, 3]);
    expect(JSON.parse(loaded.files.modelJson).weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(loaded.metadata).toMatchObject({
      classNames: ['NORMAL', 'PNEUMONIA'],
      imageSize: 40,
      model: 'batchnorm',
      threshold: 0.4,
      output: 'sigmoid',
    });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.metadata.inputDecoding).toBeUndefined();
  });

  it("keeps metadata.json's input decoding when it is this version's, and drops any other value", async () => {
    const read = async (inputDecoding: unknown) =>
      (
        await readModelFile([
          await zipOf({
            'model.json': modelJson(['w.bin']),
            'w.bin': floats(1, 2, 3),
            'metadata.json': metadata({ inputDecoding }),
          }),
        ])
      ).metadata;
    expect((await read(INPUT_DECODING)).inputDecoding).toBe(INPUT_DECODING);
    for (const other of ['<img src=x>', 'floor', 7, null]) expect((await read(other)).inputDecoding).toBeUndefined();
  });

  it('takes the three files loose, and guesses class names (saying so) without metadata.json', async () => {
    const loaded = await readModelFile([
      new File([modelJson(['weights.bin'])], 'model.json'),
      new File([floats(1, 2, 3)], 'weights.bin'),
    ]);
    expect(loaded.metadata.classNames).toEqual(['class 0', 'class 1']);
    expect(loaded.warnings.join(' ')).toMatch(/no metadata\.json/);
  });

  it('refuses, in words, what is not such a model', async () => {
    await expect(readModelFile([await zipOf({ 'readme.txt': 'hello' })])).rejects.toThrow(/has no model\.json/);
    await expect(readModelFile([new File(['not a zip'], 'x.zip')])).rejects.toThrow(/not a readable zip/);
    await expect(readModelFile([await zipOf({ 'model.json': modelJson(['w.bin']) })])).rejects.toThrow(
      /lacks the weights file .*w\.bin/,
    );
    await expect(readModelFile([await zipOf({ 'model.json': '{oops' })])).rejects.toThrow(/not JSON/);
    const mismatch = await zipOf({
      'model.json': modelJson(['w.bin']),
      'w.bin': floats(1, 2, 3),
      'metadata.json': JSON.stringify({ imageSize: 64 }),
    });
    await expect(readModelFile([mismatch])).rejects.toThrow(/do not belong together/);
  });

  it("puts metadata.json's out-of-distribution statistics into model.json for the worker, and refuses damaged ones", async () => {
    const detector = {
      method: 'mahalanobis-tied-covariance',
      featureLayer: 'dense_1',
      classMeans: [
        [0, 1],
        [2, 3],
      ],
      precision: [
        [2, 0.5],
        [0.5, 1],
      ],
      threshold: 7.5,
      quantile: 0.95,
      shrinkage: 0.1,
      trainImages: 40,
      validationImages: 10,
    };
    const files = (ood: unknown) => ({
      'model.json': modelJson(['w.bin']),
      'w.bin': floats(1, 2, 3),
      'metadata.json': JSON.stringify({ classNames: ['NORMAL', 'PNEUMONIA'], imageSize: 40, outOfDistribution: ood }),
    });
    const loaded = await readModelFile([await zipOf(files(detector))]);
    expect(loaded.metadata.outOfDistribution).toEqual(detector);
    expect(JSON.parse(loaded.files.modelJson).userDefinedMetadata.outOfDistribution).toEqual(detector);
    const damaged = {
      ...detector,
      precision: [
        [2, 0.5],
        [0.5, 'Infinity'],
      ],
    };
    await expect(readModelFile([await zipOf(files(damaged))])).rejects.toThrow(
      /out-of-distribution statistics .* damaged: a number of precision/,
    );
    const tooMany = {
      ...detector,
      classMeans: [
        [0, 1],
        [2, 3],
        [4, 5],
      ],
    };
    await expect(readModelFile([await zipOf(files(tooMany))])).rejects.toThrow(/3 class means for 2 classes/);
  });
});

describe('Load model refuses hostile files before using them', () => {
  const good = { 'model.json': modelJson(['w.bin']), 'w.bin': floats(1, 2, 3), 'metadata.json': metadata() };

  it('a 65536 × 65536 weight declared: refused from model.json alone', async () => {
    const file = await zipOf({
      ...good,
      'model.json': modelJson(['w.bin'], [{ name: 'huge', shape: [65536, 65536], dtype: 'float32' }]),
    });
    await expect(readModelFile([file])).rejects.toThrow(
      /65536 × 65536 values for “huge”, more than the 100,000,000 parameters/,
    );
  });

  it('weights shorter (or longer) than declared', async () => {
    await expect(readModelFile([await zipOf({ ...good, 'w.bin': floats(1, 2) })])).rejects.toThrow(
      /8 bytes but model\.json declares 12 \(cut short\)/,
    );
    await expect(readModelFile([await zipOf({ ...good, 'w.bin': floats(1, 2, 3, 4) })])).rejects.toThrow(
      /bytes left over/,
    );
  });

  it('markup or control characters in class names', async () => {
    const file = await zipOf({
      ...good,
      'metadata.json': metadata({ classNames: ['<img src=x onerror=alert(1)>', 'b'] }),
    });
    await expect(readModelFile([file])).rejects.toThrow(/“<img src=x onerror=alert\(1\)>”, with markup/);
    await expect(
      readModelFile([await zipOf({ ...good, 'metadata.json': metadata({ classNames: ['a\nb', 'c'] }) })]),
    ).rejects.toThrow(/control characters/);
  });

  it('JSON nested 200,000 deep, in model.json or metadata.json', async () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    await expect(readModelFile([await zipOf({ ...good, 'model.json': deep })])).rejects.toThrow(
      /nested more than 64 levels deep/,
    );
    await expect(readModelFile([await zipOf({ ...good, 'metadata.json': deep })])).rejects.toThrow(
      /metadata\.json is nested more than 64/,
    );
  });

  it('NaN or infinite weights', async () => {
    await expect(readModelFile([await zipOf({ ...good, 'w.bin': floats(NaN, NaN, NaN) })])).rejects.toThrow(
      /3 of the 3 values of “w” are NaN or infinite/,
    );
    await expect(readModelFile([await zipOf({ ...good, 'w.bin': floats(1, Infinity, 2) })])).rejects.toThrow(
      /1 of the 3 values/,
    );
  });

  it('a zip bomb: a model.json inflating to 1 GiB is refused from the directory, nothing inflated', async () => {
    const bomb = new File([zipBomb('model.json', 1024 ** 3) as Uint8Array<ArrayBuffer>], 'bomb.zip');
    expect(bomb.size).toBeLessThan(4 * 1024 ** 2);
    await expect(readModelFile([bomb])).rejects.toThrow(/model\.json is 1 GiB, over the 32 MiB limit/);
  });

  it('an entry that inflates past the size its directory declares', async () => {
    const file = await zipOf(good, 'model.zip', 0);
    const bytes = new Uint8Array(await file.arrayBuffer());
    // Shrink w.bin's declared size (central directory and local header) from 12 to 4: the stored data is longer.
    const view = new DataView(bytes.buffer);
    for (let i = 0; i + 4 < bytes.length; i++) {
      const sig = view.getUint32(i, true);
      const nameAt = sig === 0x02014b50 ? i + 46 : sig === 0x04034b50 ? i + 30 : -1;
      if (nameAt < 0 || new TextDecoder().decode(bytes.subarray(nameAt, nameAt + 5)) !== 'w.bin') continue;
      view.setUint32(sig === 0x02014b50 ? i + 24 : i + 22, 4, true);
    }
    await expect(readModelFile([new File([bytes], 'model.zip')])).rejects.toThrow(/cut short|damaged|zip bomb/);
  });

  it('other lies in metadata.json: a size that is not a number, an unknown network, a threshold out of range', async () => {
    const withMeta = async (extra: Record<string, unknown>) =>
      readModelFile([await zipOf({ ...good, 'metadata.json': metadata(extra) })]);
    await expect(withMeta({ imageSize: '40' })).rejects.toThrow(/not a whole number/);
    await expect(withMeta({ model: 'resnet' })).rejects.toThrow(/names the network “resnet”/);
    await expect(withMeta({ threshold: 7 })).rejects.toThrow(/threshold that is not a number from 0 to 1/);
    await expect(withMeta({ classNames: ['a', 'a'] })).rejects.toThrow(/names a class twice/);
  });
});

describe('the model-file caps', () => {
  it('take the largest out-of-distribution statistics this app writes: an ensemble of 5, several layers', () => {
    // An ensemble of K saved as one model has every layer K times as wide (5 at most, two classes): the feature
    // ensemble's precisions are then 160² + 160² + 320² + 160² + 320² numbers.
    const members = 5;
    const layers = OOD_LAYERS_WIDTHS.map(([name, width]) => ({
      name,
      size: width * members,
      pooling: name === 'dense_1' ? ('none' as const) : ('spatial-mean' as const),
    }));
    const width = layers.reduce((sum, l) => sum + l.size, 0);
    const random = mulberry32(5);
    const rows = (n: number) =>
      Float32Array.from({ length: n * width }, () => random() * 4 - Math.log(random() + 1e-9));
    const n = 700;
    const { detector } = fitFeatureEnsembleDetector(
      { features: rows(n), labels: Uint8Array.from({ length: n }, (_, i) => i % 2) },
      rows(200),
      { layers, numClasses: 2 },
    );
    const chars = JSON.stringify({ outOfDistribution: detector }).length;
    // Room beside it for the rest of metadata.json (a few KiB) and of model.json (the topology, tens of KiB).
    expect(chars).toBeGreaterThan(3 * 1024 ** 2);
    expect(chars + 256 * 1024).toBeLessThan(MODEL_FILE_LIMITS.maxMetadataBytes);
    expect(chars + 1024 ** 2).toBeLessThan(MODEL_FILE_LIMITS.maxModelJsonBytes);
    expect(chars + 1024 ** 2).toBeLessThan(MAX_MODEL_JSON_CHARS);
  });
});
