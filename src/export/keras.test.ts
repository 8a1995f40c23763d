/** The Keras HDF5 download: Keras 2's layout, every weight, and the predictions of a numpy reader of the file. */
import * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntensityNormalisation, ModelMetadata, ModelName } from '../core/types';
import { disposeCnn } from '../model/cnn';
import { exportLayersModel, type ExportedModel } from '../model/layersFormat';
import { buildModel } from '../model/models';
import { stackedOf } from '../model/exportChecks.testutil';
import { KERAS_VERSION, METADATA_ATTRIBUTE, kerasH5Contents, layersModelToKerasH5, writeKerasH5 } from './keras';
import { KERAS_CUSTOM_LAYERS_FILE, KERAS_CUSTOM_LAYERS_PY } from './kerasCustomLayers';
import {
  CHECKER,
  type H5Dataset,
  hasPython,
  metadataFor,
  perturbWeights,
  PYTHON,
  reopen,
  SIZE,
} from './kerasExport.testutil';

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
