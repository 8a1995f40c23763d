import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, loadModelFiles, modelFilesOf } from './checkpoint';
import { disposeCnn } from './cnn';
import { intensityNormalisationOf, TFJS_REGISTRATION_CODE } from '../core/intensityNormalisation';
import {
  PER_IMAGE_STANDARDIZATION,
  PER_IMAGE_STANDARDIZATION_LAYER,
  PerImageStandardization,
  perImageStandardise,
} from './intensityNormalisation';
import { buildModel, type ModelName } from './models';
import { syntheticSet, wholeBatch } from './testImages.testutil';
import { weightedTrainStep } from './weightedStep';

const SIZE = 32;
const built: tf.LayersModel[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  built.splice(0).forEach(disposeCnn);
});

/** tf.image.per_image_standardization, written out in float64 for one image. */
function reference(pixels: number[]): number[] {
  const mean = pixels.reduce((a, b) => a + b, 0) / pixels.length;
  const std = Math.sqrt(pixels.reduce((a, b) => a + (b - mean) ** 2, 0) / pixels.length);
  const adjusted = Math.max(std, 1 / Math.sqrt(pixels.length));
  return pixels.map((p) => (p - mean) / adjusted);
}

describe('perImageStandardise', () => {
  it("gives each image tf.image.per_image_standardization's values, on its own statistics", () => {
    const a = Array.from({ length: 256 }, (_, i) => ((i * 7) % 11) / 10);
    // The same image darker and with less contrast (another machine's exposure): the same output.
    const b = a.map((p) => 0.1 + 0.5 * p);
    const out = tf.tidy(() =>
      perImageStandardise(tf.tensor4d([...a, ...b], [2, 16, 16, 1])).arraySync(),
    ) as number[][][][];
    const flat = out.map((image) => image.flat(2));
    const expected = reference(a);
    flat[0].forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    flat[1].forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
  });

  it('leaves a flat image at 0 (the floor 1 / sqrt(N) on the spread), and its gradient finite', () => {
    const flat = tf.fill([1, 4, 4, 1], 0.5);
    const out = perImageStandardise(flat);
    expect(Array.from(out.dataSync())).toEqual(new Array(16).fill(0));
    const grad = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(perImageStandardise(x), tf.range(0, 16).reshape([1, 4, 4, 1]))),
    );
    const g = grad(flat);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([flat, out, g]);
  });

  it('uses the floor when the spread is below it: a faint image is scaled by sqrt(N), not blown up', () => {
    const pixels = Array.from({ length: 16 }, (_, i) => 0.5 + (i % 2 ? 1e-4 : -1e-4));
    const out = tf.tidy(() => Array.from(perImageStandardise(tf.tensor4d(pixels, [1, 4, 4, 1])).dataSync()));
    out.forEach((v, i) => expect(v).toBeCloseTo(reference(pixels)[i], 6));
    expect(Math.max(...out.map(Math.abs))).toBeCloseTo(4e-4, 6);
  });
});

describe.each<ModelName>(['tutorial', 'batchnorm'])('a %s model with per-image standardisation', (name) => {
  const build = () => {
    const model = buildModel(name, {
      imageSize: SIZE,
      numClasses: 2,
      learningRate: 1e-3,
      seed: 3,
      intensityNormalisation: 'per-image',
    });
    built.push(model);
    return model;
  };

  it('has it as its first layer, takes the same input, and trains', async () => {
    const model = build();
    expect(model.layers[0].name).toBe(PER_IMAGE_STANDARDIZATION_LAYER);
    expect(model.layers[0].getClassName()).toBe(PER_IMAGE_STANDARDIZATION);
    expect(model.inputs[0].shape).toEqual([null, SIZE, SIZE, 1]);
    expect(intensityNormalisationOf(model.layers.map((l) => l.getClassName()))).toBe('per-image');
    const { xs, ys } = wholeBatch(syntheticSet(8, SIZE, 2, 5), 2);
    const first = await weightedTrainStep(model, xs, ys, [1, 1]);
    expect(Number.isFinite(first.loss)).toBe(true);
    tf.dispose([xs, ys]);
  });

  it('predicts the same whatever the exposure and contrast of an image', () => {
    const model = build();
    const predictions = tf.tidy(() => {
      const x = tf.randomUniform([3, SIZE, SIZE, 1], 0, 1, 'float32', 7);
      const dimmer = tf.add(tf.mul(x, 0.4), 0.2);
      return [model.predict(x) as tf.Tensor, model.predict(dimmer) as tf.Tensor].map((t) => Array.from(t.dataSync()));
    });
    predictions[0].forEach((p, i) => expect(predictions[1][i]).toBeCloseTo(p, 4));
  });

  it('saves and loads back with the layer (storage, Model file), predicting the same', async () => {
    const model = build();
    const loaded = await loadModelFiles(await modelFilesOf(model, false));
    built.push(loaded);
    expect(loaded.layers[0].getClassName()).toBe(PER_IMAGE_STANDARDIZATION);
    const [a, b] = tf.tidy(() => {
      const x = tf.randomUniform([2, SIZE, SIZE, 1], 0, 1, 'float32', 8);
      return [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor].map((t) => Array.from(t.dataSync()));
    });
    a.forEach((p, i) => expect(b[i]).toBeCloseTo(p, 6));
  });
});

it("the model card's code for a plain TensorFlow.js user loads the model and predicts as the app does", async () => {
  const model = buildModel('batchnorm', {
    imageSize: SIZE,
    numClasses: 2,
    learningRate: 1e-3,
    seed: 4,
    intensityNormalisation: 'per-image',
  });
  built.push(model);
  const files = await modelFilesOf(model, false);
  const body = TFJS_REGISTRATION_CODE.replace(/^import .*$/m, '');
  try {
    // The user's class replaces the app's in tfjs' registry while the model loads.
    new Function('tf', body)(tf);
    // As a plain user loads it: tfjs alone, not the app's loader (which registers the app's class).
    const json = JSON.parse(files.modelJson) as tf.io.ModelJSON;
    const loaded = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: files.weights,
      }),
    );
    built.push(loaded);
    expect(loaded.layers[0].getClassName()).toBe(PER_IMAGE_STANDARDIZATION);
    expect(loaded.layers[0].constructor).not.toBe(PerImageStandardization);
    const [a, b] = tf.tidy(() => {
      const x = tf.randomUniform([2, SIZE, SIZE, 1], 0, 1, 'float32', 9);
      return [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor].map((t) => Array.from(t.dataSync()));
    });
    a.forEach((p, i) => expect(b[i]).toBeCloseTo(p, 6));
  } finally {
    tf.serialization.registerClass(PerImageStandardization);
  }
});

it('a checkpoint does not load into a model of the other normalisation (its weights alone would fit)', async () => {
  const options = { imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 3 };
  const plain = buildModel('batchnorm', options);
  const standardised = buildModel('batchnorm', { ...options, intensityNormalisation: 'per-image' });
  built.push(plain, standardised);
  await expect(loadCheckpoint(standardised, await modelFilesOf(plain, true))).rejects.toThrow(
    /intensity normalisation none, this one per-image/,
  );
  await expect(loadCheckpoint(plain, await modelFilesOf(standardised, true))).rejects.toThrow(
    /intensity normalisation per-image, this one none/,
  );
  await expect(loadCheckpoint(standardised, await modelFilesOf(standardised, true))).resolves.toEqual({
    withOptimizer: true,
  });
});

it('a model without it starts at its first convolution, as the tutorial', () => {
  const model = buildModel('tutorial', { imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 3 });
  built.push(model);
  expect(model.layers[0].name).toBe('conv2d_1');
  expect(intensityNormalisationOf(model.layers.map((l) => l.getClassName()))).toBe('none');
});
