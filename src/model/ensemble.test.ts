import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntensityNormalisation } from '../core/types';
import { disposeCnn, ENSEMBLE_AVERAGE_LAYER } from './cnn';
import { disposeSnapshot, ensembleMembersOf, snapshotOf, stackMembers, type MemberWeights } from './ensemble';
import { featureLayerOf, featuresAndOutputs } from './features';
import { gradCam } from './gradCam';
import { buildModel, type ModelName, type ModelOptions } from './models';
import { mulberry32 } from '../core/random';
import { ensembleOfModelJson, ensembleText } from '../core/ensemble';
import { exportLayersModel } from './layersFormat';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// A 2x2 map before Flatten: dense_1's layout is checked at several positions.
const SIZE = 48;
const K = 3;

/** Random images in 0..1, seeded. */
function randomImages(count: number, seed: number): tf.Tensor4D {
  const random = mulberry32(seed);
  return tf.tensor4d(
    Float32Array.from({ length: count * SIZE * SIZE }, () => random()),
    [count, SIZE, SIZE, 1],
  );
}

/** Moves every BatchNorm moving statistic off its initial value, so that stacking them is checked too. */
function perturbMovingStatistics(model: tf.LayersModel, seed: number): void {
  const random = mulberry32(seed);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(
      layer.getWeights().map((w) =>
        tf.tensor(
          Float32Array.from(w.dataSync(), () => 0.5 + random()),
          w.shape,
        ),
      ),
    );
  }
}

describe.each<[ModelName, IntensityNormalisation]>([
  ['tutorial', 'none'],
  ['tutorial', 'per-image'],
  ['batchnorm', 'none'],
  ['batchnorm', 'per-image'],
])('a snapshot ensemble of %s models (normalisation %s) stacked as one model', (name, intensityNormalisation) => {
  const options: ModelOptions = { imageSize: SIZE, numClasses: 2, learningRate: 1e-3, intensityNormalisation };
  const members: tf.LayersModel[] = [];
  const snapshots: MemberWeights[] = [];
  let stacked: tf.LayersModel;
  let images: tf.Tensor4D;

  beforeAll(() => {
    for (let k = 0; k < K; k++) {
      const member = buildModel(name, { ...options, seed: 10 + 7 * k });
      perturbMovingStatistics(member, k + 1);
      members.push(member);
      snapshots.push(snapshotOf(member));
    }
    stacked = stackMembers(name, options, snapshots);
    images = randomImages(6, 99);
  });

  afterAll(() => {
    members.forEach(disposeCnn);
    snapshots.forEach(disposeSnapshot);
    disposeCnn(stacked);
    images.dispose();
  });

  it('predicts the mean of its members to 1e-5', () => {
    const mean = tf.tidy(() => tf.mean(tf.stack(members.map((m) => m.predict(images) as tf.Tensor)), 0));
    const out = stacked.predict(images) as tf.Tensor;
    expect(out.shape).toEqual([6, 1]);
    const got = out.dataSync();
    const want = mean.dataSync();
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
    // Not all the same: the members differ.
    const each = members.map((m) => tf.tidy(() => (m.predict(images) as tf.Tensor).dataSync()[0]));
    expect(new Set(each.map((p) => p.toFixed(6))).size).toBe(K);
    tf.dispose([mean, out]);
  });

  it('keeps the single model layer names and widths times K, then the averaging layer', () => {
    const single = members[0];
    expect(stacked.layers.map((l) => l.name)).toEqual([...single.layers.map((l) => l.name), ENSEMBLE_AVERAGE_LAYER]);
    expect(ensembleMembersOf(stacked)).toBe(K);
    expect(ensembleMembersOf(single)).toBe(1);
    // The per-image standardisation's output is the image (one channel) in both.
    for (const layer of single.layers.filter((l) => l.weights.length > 0 || l.name.startsWith('dense'))) {
      const wide = stacked.getLayer(layer.name);
      const shape = layer.outputShape as number[];
      const wideShape = wide.outputShape as number[];
      // Every width times K; the flattened map too (K*C channels at each position).
      expect(wideShape.at(-1)).toBe(layer.name === 'dense_2' ? K : shape.at(-1)! * K);
    }
    const average = stacked.getLayer(ENSEMBLE_AVERAGE_LAYER);
    expect(average.trainable).toBe(false);
    expect(average.weights.map((w) => w.originalName)).toEqual([`${ENSEMBLE_AVERAGE_LAYER}/kernel`]);
    expect(Array.from(average.getWeights()[0].dataSync())).toEqual(new Array(K).fill(Math.fround(1 / K)));
  });

  it('lays the weights out as the spec says', () => {
    const conv1 = stacked.getLayer('conv2d_1').getWeights()[0];
    const conv2 = stacked.getLayer('conv2d_2').getWeights()[0];
    const member1 = snapshots[1].get('conv2d_1')![0];
    const member2conv2 = snapshots[2].get('conv2d_2')![0];
    const [, , , f1] = member1.shape;
    const [, , fin, fout] = member2conv2.shape;
    expect(conv1.shape).toEqual([2, 2, 1, K * f1]);
    // First convolution: the members' kernels side by side on the last axis.
    expect(conv1.slice([0, 0, 0, f1], [2, 2, 1, f1]).arraySync()).toEqual(member1.arraySync());
    // Later convolutions: block diagonal.
    expect(conv2.shape).toEqual([2, 2, K * fin, K * fout]);
    expect(conv2.slice([0, 0, 2 * fin, 2 * fout], [2, 2, fin, fout]).arraySync()).toEqual(member2conv2.arraySync());
    expect(conv2.slice([0, 0, 0, fout], [2, 2, fin, fout]).abs().max().dataSync()[0]).toBe(0);
    // dense_1 after Flatten: row ((i*w + j)*K + k)*C + c, column k*64 + u = member k's row (i*w + j)*C + c, column u.
    const dense1 = stacked.getLayer('dense_1').getWeights()[0].arraySync() as number[][];
    const own = snapshots[2].get('dense_1')![0].arraySync() as number[][];
    const channels = (members[2].getLayer('flatten').input as tf.SymbolicTensor).shape[3] as number;
    const positions = own.length / channels;
    expect(dense1.length).toBe(own.length * K);
    for (const [p, c, u] of [
      [0, 0, 0],
      [positions - 1, channels - 1, 63],
      [1, 5, 17],
    ]) {
      expect(dense1[(p * K + 2) * channels + c][2 * 64 + u]).toBe(own[p * channels + c][u]);
      expect(dense1[(p * K + 1) * channels + c][2 * 64 + u]).toBe(0);
    }
    // dense_2: block diagonal [K*64, K]; biases concatenated.
    const dense2 = stacked.getLayer('dense_2').getWeights();
    expect(dense2[0].shape).toEqual([K * 64, K]);
    expect(dense2[0].slice([64, 1], [64, 1]).arraySync()).toEqual(snapshots[1].get('dense_2')![0].arraySync());
    expect(dense2[0].slice([0, 1], [64, 1]).abs().max().dataSync()[0]).toBe(0);
    const bias1 = stacked.getLayer('dense_1').getWeights()[1];
    expect(bias1.slice([64], [64]).arraySync()).toEqual(snapshots[1].get('dense_1')![1].arraySync());
    if (name === 'batchnorm') {
      const wide = stacked.getLayer('batch_normalization_3').getWeights();
      const mine = snapshots[2].get('batch_normalization_3')!;
      const c = mine[0].shape[0];
      wide.forEach((w, j) => expect(w.slice([2 * c], [c]).arraySync()).toEqual(mine[j].arraySync()));
    }
  });

  it('says what it is in its model.json, as the page reads it back', async () => {
    const { modelJson } = await exportLayersModel(stacked);
    expect(ensembleOfModelJson(modelJson)).toEqual({ kind: 'snapshot', members: K });
    expect(ensembleOfModelJson((await exportLayersModel(members[0])).modelJson)).toBeNull();
    expect(ensembleOfModelJson('not json')).toBeNull();
    expect(ensembleText({ kind: 'snapshot', members: K, predictTimeRatio: 8.54 })).toMatch(
      /snapshot ensemble of 3 members.*same epochs as one model.*9 times the work.*8\.5 times one member's predict time/,
    );
  });

  it('gives the out-of-distribution features of dense_1: the members side by side, K*64 of them', () => {
    expect(featureLayerOf(stacked)).toEqual({ name: 'dense_1', size: K * 64 });
    const { features, outputs } = featuresAndOutputs(stacked, [{ name: 'dense_1', pooling: 'none' }], images);
    const member = featuresAndOutputs(members[1], [{ name: 'dense_1', pooling: 'none' }], images);
    const block = features.slice([0, 64], [6, 64]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(block, member.features))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-5);
    expect(outputs.shape).toEqual([6, 1]);
    tf.dispose([features, outputs, member.features, member.outputs, block]);
  });

  it('gives Grad-CAM maps of the averaged output', () => {
    const result = gradCam(stacked, images, 'predicted');
    expect(result.layer).toBe(name === 'tutorial' ? 'conv2d_4' : 're_lu_4');
    expect(result.numClasses).toBe(2);
    const predicted = (stacked.predict(images) as tf.Tensor).dataSync();
    for (let i = 0; i < 6; i++) expect(result.scores[i * 2 + 1]).toBeCloseTo(predicted[i], 5);
    expect(result.maps.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(result.maps.some((v) => v > 0)).toBe(true);
  });
});

describe('stackMembers refuses', () => {
  it('more than 2 classes, in words', () => {
    expect(() => buildModel('tutorial', { imageSize: SIZE, numClasses: 3, learningRate: 1e-3, members: 2 })).toThrow(
      /2 classes only.*softmax/,
    );
  });

  it('a single member', () => {
    expect(() => stackMembers('tutorial', { imageSize: SIZE, numClasses: 2, learningRate: 1e-3 }, [])).toThrow(
      /at least 2 members/,
    );
  });
});
