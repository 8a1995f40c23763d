import * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntensityNormalisation, ModelMetadata, ModelName } from '../core/types';
import { disposeCnn } from '../model/cnn';
import { exportLayersModel, type ExportedModel } from '../model/layersFormat';
import { buildModel } from '../model/models';
import { pooledFeatures, stackedOf } from '../model/exportChecks.testutil';
import { OOD_LAYERS_WITH_DETAIL } from '../model/features';
import { fitFeatureEnsembleDetector } from '../eval/featureEnsemble';
import { judge } from '../eval/outOfDistribution';
import { KERAS_VERSION, METADATA_ATTRIBUTE, kerasH5Contents, layersModelToKerasH5, writeKerasH5 } from './keras';
import { PyFloat, pyFloatRepr, pyJson } from './kerasConfig';
import { KERAS_CUSTOM_LAYERS_FILE, KERAS_CUSTOM_LAYERS_PY } from './kerasCustomLayers';

const PYTHON = '/usr/bin/python3';
const CHECKER = join(dirname(fileURLToPath(import.meta.url)), '../../test/keras_forward.py');
const hasPython = spawnSync(PYTHON, ['-c', 'import h5py, numpy'], { stdio: 'ignore' }).status === 0;
const SIZE = 40;

function metadataFor(model: ModelName, classNames: string[]): ModelMetadata {
  return {
    model,
    classNames,
    imageSize: SIZE,
    channels: 1,
    normalisation: 'pixel / 255',
    output: classNames.length === 2 ? 'sigmoid' : 'softmax',
    positiveClass: classNames.length === 2 ? classNames[1] : null,
    threshold: 0.5,
    thresholdClass: classNames.length === 2 ? classNames[1] : null,
    thresholdRule: 'fixed',
    resize: 'squash',
    trainedEpochs: 1,
    backend: 'cpu',
    createdAt: '2024-01-01T00:00:00.000Z',
  };
}

/** Biases and BatchNormalization's four vectors away from their initial zeros and ones, so a mix-up would show. */
function perturbWeights(model: tf.LayersModel, seed: number): void {
  const ranges: [RegExp, number, number][] = [
    [/bias$|beta$/, -0.1, 0.1],
    [/gamma$/, 0.5, 1.5],
    [/moving_mean$/, -0.3, 0.3],
    [/moving_variance$/, 0.2, 2],
  ];
  for (const layer of model.layers) {
    const values = layer.weights.map((w, i) => {
      const range = ranges.find(([pattern]) => pattern.test(w.originalName));
      return range ? tf.randomUniform(w.shape as number[], range[1], range[2], 'float32', seed + i) : w.read().clone();
    });
    layer.setWeights(values);
    tf.dispose(values);
    seed += 100;
  }
}

interface Case {
  model: ModelName;
  classes: string[];
  normalisation?: IntensityNormalisation;
  /** A snapshot ensemble of this many members saved as one model (model/ensemble.ts). */
  members?: number;
  /** What metadata.json says of it (the ensemble too). */
  metadata?: ModelMetadata;
  tfModel?: tf.LayersModel;
  exported?: ExportedModel;
  h5?: Uint8Array;
}

const CASES: Case[] = [
  { model: 'tutorial', classes: ['NORMAL', 'PNEUMONIA'] },
  { model: 'tutorial', classes: ['bacteria', 'normal', 'virus'] },
  { model: 'batchnorm', classes: ['NORMAL', 'PNEUMONIA'] },
  { model: 'batchnorm', classes: ['bacteria', 'normal', 'virus'] },
  { model: 'batchnorm', classes: ['NORMAL', 'PNEUMONIA'], normalisation: 'per-image' },
  { model: 'tutorial', classes: ['bacteria', 'normal', 'virus'], normalisation: 'per-image' },
  { model: 'tutorial', classes: ['NORMAL', 'PNEUMONIA'], normalisation: 'per-image', members: 3 },
  { model: 'batchnorm', classes: ['NORMAL', 'PNEUMONIA'], members: 2 },
];

let tmp = '';
let images: tf.Tensor4D;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = mkdtempSync(join(tmpdir(), 'keras-export-'));
  // Each image with its own exposure and contrast, so that a normalisation step is exercised.
  images = tf.tidy(() =>
    tf.add(
      tf.mul(tf.randomUniform([3, SIZE, SIZE, 1], 0, 1, 'float32', 11), tf.tensor4d([1, 0.6, 0.3], [3, 1, 1, 1])),
      tf.tensor4d([0, 0.3, 0.1], [3, 1, 1, 1]),
    ),
  ) as tf.Tensor4D;
  for (const [i, c] of CASES.entries()) {
    const options = {
      imageSize: SIZE,
      numClasses: c.classes.length,
      learningRate: 1e-3,
      intensityNormalisation: c.normalisation,
    };
    const build = (seed: number) => {
      const model = buildModel(c.model, { ...options, seed });
      perturbWeights(model, 1000 * seed);
      return model;
    };
    c.tfModel = c.members ? stackedOf(c.model, options, c.members, (k) => build(50 + k)) : build(5 + i);
    c.exported = await exportLayersModel(c.tfModel);
    const metadata = metadataFor(c.model, c.classes);
    c.metadata = c.members ? { ...metadata, ensemble: { kind: 'snapshot', members: c.members } } : metadata;
    c.h5 = await layersModelToKerasH5(c.exported.modelJson, c.exported.weights, c.metadata);
  }
});

afterAll(() => {
  for (const c of CASES) if (c.tfModel) disposeCnn(c.tfModel);
  tf.dispose(images);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

type H5File = InstanceType<typeof h5wasm.File>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

/** Opens the bytes again with h5wasm, through its in-memory file system. */
async function reopen(bytes: Uint8Array, name: string): Promise<H5File> {
  const module = await h5wasm.ready;
  module.FS.writeFile(`/${name}`, bytes);
  return new h5wasm.File(`/${name}`, 'r');
}

describe.each(
  CASES.map(
    (c, i) =>
      [
        `${c.model}, ${c.classes.length} classes${c.normalisation ? `, ${c.normalisation}` : ''}${c.members ? `, ensemble of ${c.members}` : ''}`,
        i,
      ] as const,
  ),
)('Keras HDF5 of %s', (_, index) => {
  const c = CASES[index];

  it("holds, in Keras 2's layout, the config and every weight tfjs has (read back with h5wasm)", async () => {
    const model = c.tfModel!;
    const file = await reopen(c.h5!, `reopen-${index}.h5`);
    try {
      expect(file.attrs.keras_version.value).toBe(KERAS_VERSION);
      expect(file.attrs.backend.value).toBe('tensorflow');
      const config = JSON.parse(file.attrs.model_config.value as string) as {
        class_name: string;
        config: { layers: { class_name: string; config: Record<string, unknown> }[] };
      };
      expect(config.class_name).toBe('Sequential');
      const layers = config.config.layers;
      expect(layers.map((l) => l.class_name)).toEqual(['InputLayer', ...model.layers.map((l) => l.getClassName())]);
      expect(layers[0].config).toEqual({
        batch_input_shape: [null, SIZE, SIZE, 1],
        dtype: 'float32',
        sparse: false,
        ragged: false,
        name: `${model.layers[0].name}_input`,
      });
      const conv = layers.find((l) => l.config.name === 'conv2d_1');
      expect(conv?.config).toMatchObject({
        name: 'conv2d_1',
        dtype: 'float32',
        kernel_size: [2, 2],
        padding: 'valid',
        groups: 1,
      });
      const training = JSON.parse(file.attrs.training_config.value as string) as Record<string, unknown>;
      expect(training).toEqual({
        loss: c.classes.length === 2 ? 'binary_crossentropy' : 'categorical_crossentropy',
        metrics: ['accuracy'],
        weighted_metrics: null,
        loss_weights: null,
        optimizer_config: {
          class_name: 'RMSprop',
          config: { name: 'RMSprop', learning_rate: 1e-3, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false },
        },
      });
      expect(JSON.parse(file.attrs[METADATA_ATTRIBUTE].value as string)).toEqual(c.metadata);

      const weights = file.get('model_weights') as InstanceType<typeof h5wasm.Group>;
      expect(weights.attrs.layer_names.value).toEqual(model.layers.map((l) => l.name));
      expect(weights.attrs.backend.value).toBe('tensorflow');
      expect(weights.attrs.keras_version.value).toBe(KERAS_VERSION);
      expect(weights.keys().sort()).toEqual([...model.layers.map((l) => l.name), 'top_level_model_weights'].sort());
      for (const layer of model.layers) {
        const group = weights.get(layer.name) as InstanceType<typeof h5wasm.Group>;
        const names = layer.weights.map((w) => `${w.originalName}:0`);
        const stored = group.attrs.weight_names.value;
        // Keras' order: trainable weights, then the running statistics; tfjs' getWeights() has the same.
        expect(names.length === 0 ? Array.from(stored as Float64Array) : stored).toEqual(names);
        const values = layer.getWeights(); // The variables' own tensors: not to be disposed.
        names.forEach((name, k) => {
          const dataset = file.get(`model_weights/${layer.name}/${name}`) as H5Dataset;
          expect(dataset.dtype).toBe('<f');
          expect(dataset.shape).toEqual(values[k].shape);
          expect(Array.from(dataset.value as Float32Array)).toEqual(Array.from(values[k].dataSync()));
        });
      }
      const top = weights.get('top_level_model_weights') as InstanceType<typeof h5wasm.Group>;
      expect(Array.from(top.attrs.weight_names.value as Float64Array)).toEqual([]);
    } finally {
      file.close();
    }
  });

  it.skipIf(!hasPython)(
    `loads as Keras' loader does and predicts what tfjs predicts (numpy forward pass; skipped without h5py and numpy in ${PYTHON})`,
    () => {
      const model = c.tfModel!;
      const h5 = join(tmp, `model-${index}.h5`);
      const imagesJson = join(tmp, 'images.json');
      const reference = join(tmp, `keras-layout-${index}.h5`);
      writeFileSync(h5, c.h5!);
      writeFileSync(imagesJson, JSON.stringify({ shape: images.shape, data: Array.from(images.dataSync()) }));
      // With the app's normalisation layer: run by the class the Keras download brings.
      const custom = join(tmp, KERAS_CUSTOM_LAYERS_FILE);
      writeFileSync(custom, KERAS_CUSTOM_LAYERS_PY);
      const extra = c.normalisation === 'per-image' ? ['--custom-layers', custom] : [];
      const run = spawnSync(PYTHON, [CHECKER, h5, imagesJson, '--reference', reference, ...extra], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const result = JSON.parse(run.stdout) as {
        predictions: number[][];
        layers: { name: string; output_shape: (number | null)[] }[];
        root: Record<string, string>;
        json_like_python: boolean;
        layout_differences: string[];
      };
      expect(result.root).toMatchObject({ keras_version: KERAS_VERSION, backend: 'tensorflow' });
      expect(JSON.parse(result.root.training_config)).toMatchObject({ optimizer_config: { class_name: 'RMSprop' } });
      expect(JSON.parse(result.root[METADATA_ATTRIBUTE])).toEqual(c.metadata);
      expect(result.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
      expect(result.layers.map((l) => l.output_shape)).toEqual(model.layers.map((l) => l.outputShape));
      expect(result.json_like_python).toBe(true);
      expect(result.layout_differences).toEqual(EXPECTED_LAYOUT_DIFFERENCES);

      const predicted = model.predict(images) as tf.Tensor;
      const expected = predicted.arraySync() as number[][];
      predicted.dispose();
      const diff = Math.max(...expected.flatMap((row, i) => row.map((v, j) => Math.abs(v - result.predictions[i][j]))));
      expect(result.predictions.length).toBe(3);
      expect(diff, `max |Keras-semantics numpy - tfjs| = ${diff}`).toBeLessThan(1e-4);
    },
  );
});

/**
 * The only ways our file's layout differs from what Keras' saving code writes through h5py (listed by
 * keras_forward.py): h5wasm marks variable-length UTF-8 strings space-padded, h5py null-terminated.
 */
const EXPECTED_LAYOUT_DIFFERENCES = [
  "///attrs/backend/strpad: ours 2, Keras' 0",
  "///attrs/keras_version/strpad: ours 2, Keras' 0",
];

describe.skipIf(!hasPython)('Keras HDF5 with a feature-ensemble detector', () => {
  it.each<[ModelName, number]>([
    ['batchnorm', 1],
    ['tutorial', 2],
  ])(
    "lets a numpy reader of the file compute the page's features, scores and flags from its layers (%s, %i member(s))",
    async (name, members) => {
      // At 48 px the four blocks' maps are 23, 11, 5 and 2 pixels a side: every mean is over several pixels.
      const size = 48;
      const options = { imageSize: size, numClasses: 2, learningRate: 1e-3 };
      const build = (seed: number) => {
        const model = buildModel(name, { ...options, seed });
        perturbWeights(model, 1000 * seed);
        return model;
      };
      const model = members === 1 ? build(7) : stackedOf(name, options, members, (k) => build(70 + k));
      const x = tf.randomUniform([30, size, size, 1], 0, 1, 'float32', 13) as tf.Tensor4D;
      // The default detector: the five layers and the input's detail.
      const { rows, sizes } = pooledFeatures(model, OOD_LAYERS_WITH_DETAIL, x);
      const width = rows.length / 30;
      const { detector } = fitFeatureEnsembleDetector(
        { features: rows.subarray(0, 20 * width), labels: new Uint8Array(20).map((_, i) => i % 2) },
        rows.subarray(20 * width),
        { layers: OOD_LAYERS_WITH_DETAIL.map((l, i) => ({ ...l, size: sizes[i] })), numClasses: 2 },
      );
      const metadata: ModelMetadata = {
        ...metadataFor(name, ['NORMAL', 'PNEUMONIA']),
        imageSize: size,
        ...(members > 1 ? { ensemble: { kind: 'snapshot' as const, members } } : {}),
        outOfDistribution: detector,
      };
      const exported = await exportLayersModel(model);
      const h5 = join(tmp, `ood-${name}-${members}.h5`);
      writeFileSync(h5, await layersModelToKerasH5(exported.modelJson, exported.weights, metadata));
      const imagesJson = join(tmp, `ood-images-${size}.json`);
      writeFileSync(imagesJson, JSON.stringify({ shape: x.shape, data: Array.from(x.dataSync()) }));
      tf.dispose(x);
      disposeCnn(model);
      const run = spawnSync(PYTHON, [CHECKER, h5, imagesJson], {
        encoding: 'utf8',
        timeout: 60_000,
        maxBuffer: 64 << 20,
      });
      expect(run.stderr).toBe('');
      const { root, ood } = JSON.parse(run.stdout) as {
        root: Record<string, string>;
        ood: { features: number[][]; scores: number[]; unlike: boolean[] };
      };
      expect(JSON.parse(root[METADATA_ATTRIBUTE]).outOfDistribution).toEqual(detector);
      const features = ood.features.flat();
      expect(features.length).toBe(rows.length);
      const diff = Math.max(...features.map((v, i) => Math.abs(v - rows[i]) / Math.max(1, Math.abs(rows[i]))));
      expect(diff, `max relative |numpy - tfjs| = ${diff}`).toBeLessThan(1e-4);
      const page = judge(detector, rows);
      ood.scores.forEach((score, i) =>
        expect(Math.abs(score - page.distances[i]) / Math.max(1, page.distances[i])).toBeLessThan(1e-3),
      );
      expect(ood.unlike).toEqual(Array.from(page.distances, (d) => d > page.threshold));
      expect(ood.unlike.filter((u) => u).length).toBeGreaterThan(0);
    },
  );
});

describe('kerasH5Contents', () => {
  it('refuses what it cannot write, in words', () => {
    const c = CASES[0];
    const json = JSON.parse(c.exported!.modelJson) as {
      modelTopology: { class_name: string; config: { layers: { class_name: string }[] } };
    };
    const meta = metadataFor('tutorial', c.classes);
    expect(() => kerasH5Contents(c.exported!.modelJson, c.exported!.weights.slice(4), meta)).toThrow(
      /shorter than model\.json's manifest/,
    );
    const padded = new Uint8Array(c.exported!.weights.byteLength + 4);
    expect(() => kerasH5Contents(c.exported!.modelJson, padded.buffer, meta)).toThrow(/manifest accounts for/);
    const functional = structuredClone(json);
    functional.modelTopology.class_name = 'Model';
    expect(() => kerasH5Contents(JSON.stringify(functional), c.exported!.weights, meta)).toThrow(/Only Sequential/);
    const odd = structuredClone(json);
    odd.modelTopology.config.layers[2].class_name = 'GaussianNoise';
    expect(() => kerasH5Contents(JSON.stringify(odd), c.exported!.weights, meta)).toThrow(
      /GaussianNoise, which the Keras export does not write/,
    );
  });
});

describe('writeKerasH5', () => {
  it("splits a name list past HDF5's object header limit into numbered attributes, as Keras does", async () => {
    // 30 names of 2,501 bytes: 75,030 bytes as numpy's S2501 array, over 64,512, so two attributes of 15.
    const names = Array.from({ length: 30 }, (_, i) => `${'x'.repeat(2499)}${String(i).padStart(2, '0')}`);
    const bytes = await writeKerasH5({
      modelConfig: '{}',
      trainingConfig: null,
      metadata: '{}',
      layers: names.map((name) => ({ name, className: 'Flatten', weights: [] })),
    });
    const file = await reopen(bytes, 'chunked.h5');
    try {
      const group = file.get('model_weights') as InstanceType<typeof h5wasm.Group>;
      expect(Object.keys(group.attrs).sort()).toEqual(['backend', 'keras_version', 'layer_names0', 'layer_names1']);
      expect([
        ...(group.attrs.layer_names0.value as string[]),
        ...(group.attrs.layer_names1.value as string[]),
      ]).toEqual(names);
      expect((group.attrs.layer_names0.value as string[]).length).toBe(15);
      expect(file.attrs.training_config).toBeUndefined();
    } finally {
      file.close();
    }
  });
});

describe('pyJson', () => {
  it("writes JSON as Python's json.dumps does", () => {
    expect(pyJson({ a: new PyFloat(1e-7), b: [1, 0.5, new PyFloat(0)], c: 'é"\n\x7f', d: null, e: true, f: {} })).toBe(
      '{"a": 1e-07, "b": [1, 0.5, 0.0], "c": "\\u00e9\\"\\n\\u007f", "d": null, "e": true, "f": {}}',
    );
    const cases: [number, string][] = [
      [0.001, '0.001'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [1.5e-12, '1.5e-12'],
      [1, '1.0'],
      [-2.5, '-2.5'],
      [123456789.125, '123456789.125'],
      [1e16, '1e+16'],
      [1.2345e20, '1.2345e+20'],
      [9999999999999998, '9999999999999998.0'],
      [0.1 + 0.2, '0.30000000000000004'],
    ];
    expect(cases.map(([x]) => pyFloatRepr(x))).toEqual(cases.map(([, s]) => s));
  });
});
