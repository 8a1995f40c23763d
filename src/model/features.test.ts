import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import type { IntensityNormalisation } from '../core/types';
import { disposeCnn } from './cnn';
import { featuresAndOutputs, layerSizeOf, OOD_LAYERS, OOD_LAYERS_WITH_DETAIL, oodLayersOf } from './features';
import { imageDetail } from './imageDetail';
import { buildModel, type ModelName } from './models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SIZE = 48;

function randomImages(count: number, seed: number): tf.Tensor4D {
  const random = mulberry32(seed);
  return tf.tensor4d(
    Float32Array.from({ length: count * SIZE * SIZE }, () => random()),
    [count, SIZE, SIZE, 1],
  );
}

/** Layer `name`'s output for `xs`, through a model cut at that layer (another path than featuresAndOutputs'). */
function layerOutput(model: tf.LayersModel, name: string, xs: tf.Tensor): tf.Tensor {
  const cut = tf.model({ inputs: model.inputs, outputs: model.getLayer(name).output as tf.SymbolicTensor });
  return cut.predict(xs) as tf.Tensor;
}

describe.each<[ModelName, IntensityNormalisation, number]>([
  ['tutorial', 'none', 1],
  ['batchnorm', 'per-image', 1],
  ['tutorial', 'per-image', 3],
  ['batchnorm', 'none', 3],
])('feature-ensemble features of %s (normalisation %s, %i members)', (name, intensityNormalisation, members) => {
  const build = () =>
    buildModel(name, { imageSize: SIZE, numClasses: 2, learningRate: 1e-3, intensityNormalisation, members, seed: 5 });

  it('lists the OOD layers with their widths after pooling (K times as wide in an ensemble)', () => {
    const model = build();
    try {
      const layers = oodLayersOf(model);
      expect(layers.map((l) => [l.name, l.pooling])).toEqual(OOD_LAYERS.map((l) => [l.name, l.pooling]));
      expect(layers.map((l) => l.size)).toEqual([32, 32, 64, 32, 64].map((w) => w * members));
      expect(layerSizeOf(model, 'max_pooling2d_2', 'spatial-mean')).toBe(32 * members);
      // A map cannot be read as a row, nor a row as a map, nor a layer that is not there.
      expect(layerSizeOf(model, 'max_pooling2d_2', 'none')).toBeNull();
      expect(layerSizeOf(model, 'dense_1', 'spatial-mean')).toBeNull();
      expect(layerSizeOf(model, 'conv2d_99', 'none')).toBeNull();
      // The image's detail: four numbers from the input, not K times as wide; only under its own name.
      const withDetail = oodLayersOf(model, OOD_LAYERS_WITH_DETAIL);
      expect(withDetail.map((l) => [l.name, l.size])).toEqual([...layers.map((l) => [l.name, l.size]), ['image', 4]]);
      expect(layerSizeOf(model, 'dense_1', 'detail-octaves')).toBeNull();
    } finally {
      disposeCnn(model);
    }
  });

  it("pools each layer's output to its spatial mean, concatenated in order, beside the model's output", () => {
    const model = build();
    const xs = randomImages(4, 11);
    try {
      const layers = oodLayersOf(model);
      const before = tf.memory().numTensors;
      const { features, outputs } = featuresAndOutputs(model, layers, xs);
      // Only the two results stay: every map and pooled piece is freed.
      expect(tf.memory().numTensors).toBe(before + 2);
      expect(features.shape).toEqual([4, layers.reduce((s, l) => s + l.size, 0)]);
      const expected = tf.tidy(() =>
        tf.concat(
          layers.map((l) => {
            const out = layerOutput(model, l.name, xs);
            return l.pooling === 'spatial-mean' ? out.mean([1, 2]) : out;
          }),
          1,
        ),
      );
      const predicted = model.predict(xs) as tf.Tensor;
      const featureGap = tf.tidy(() => tf.max(tf.abs(tf.sub(features, expected))).dataSync()[0]);
      const outputGap = tf.tidy(() => tf.max(tf.abs(tf.sub(outputs, predicted))).dataSync()[0]);
      expect(featureGap).toBeLessThan(1e-5);
      expect(outputGap).toBeLessThan(1e-6);
      // The penultimate layer alone, by name, as models before the feature ensemble are read.
      const last = featuresAndOutputs(model, [{ name: 'dense_1', pooling: 'none' }], xs);
      const lastGap = tf.tidy(
        () =>
          tf.max(tf.abs(tf.sub(last.features, features.slice([0, features.shape[1] - 64 * members])))).dataSync()[0],
      );
      expect(lastGap).toBe(0);
      // With the image's detail: the same row, then the input's four numbers, read before any layer (per-image
      // standardisation included) runs.
      const detailed = featuresAndOutputs(model, OOD_LAYERS_WITH_DETAIL, xs);
      const detail = imageDetail(xs);
      const detailGap = tf.tidy(
        () => tf.max(tf.abs(tf.sub(detailed.features, tf.concat([features, detail], 1)))).dataSync()[0],
      );
      expect(detailGap).toBe(0);
      tf.dispose([features, outputs, expected, predicted, last.features, last.outputs, detail]);
      tf.dispose([detailed.features, detailed.outputs]);
    } finally {
      xs.dispose();
      disposeCnn(model);
    }
  });
});

describe('featuresAndOutputs on a layer that cannot be read so', () => {
  it('refuses a missing layer and a map read as a row', () => {
    const model = buildModel('tutorial', { imageSize: SIZE, numClasses: 2, learningRate: 1e-3 });
    const xs = randomImages(1, 3);
    try {
      expect(() => featuresAndOutputs(model, [{ name: 'nope', pooling: 'none' }], xs)).toThrow(/no layer/);
      const before = tf.memory().numTensors;
      expect(() => featuresAndOutputs(model, [{ name: 'max_pooling2d_1', pooling: 'none' }], xs)).toThrow(
        /not one row/,
      );
      expect(tf.memory().numTensors).toBe(before);
      expect(() => featuresAndOutputs(model, [{ name: 'dense_1', pooling: 'detail-octaves' }], xs)).toThrow(/no layer/);
    } finally {
      xs.dispose();
      disposeCnn(model);
    }
  });
});
