import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_TIME_AUGMENTATIONS, TTA_VIEW_COUNT } from '../core/types';
import { featureLayerOf } from '../model/features';
import { buildModel } from '../model/models';
import { syntheticSet } from '../model/testImages.testutil';
import { affineMatrix } from './augment';
import { evaluateInBatches } from './evaluate';
import { predictWithTta, ttaViews } from './testTimeAugmentation';

const SIZE = 32;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const model = () => buildModel('batchnorm', { imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 3 });

function images(n: number, seed: number): tf.Tensor4D {
  const set = syntheticSet(n, SIZE, 2, seed);
  return tf.tidy(() => tf.tensor4d(set.pixels, [n, SIZE, SIZE, 1], 'int32').toFloat().div(255) as tf.Tensor4D);
}

describe('test-time augmentation', () => {
  it('has the views the page counts: the image first, then shifts of 4% of the side, scales, mirrors', () => {
    for (const kind of TEST_TIME_AUGMENTATIONS) expect(ttaViews(kind, SIZE)).toHaveLength(TTA_VIEW_COUNT[kind]);
    const views = ttaViews('shift-scale-flip', 100);
    expect(affineMatrix(views[0], 100, 100).map((v) => v + 0)).toEqual([1, 0, 0, 0, 1, 0, 0, 0]);
    expect(views.slice(1, 5).map((v) => [v.shiftX, v.shiftY])).toEqual([
      [4, 0],
      [-4, 0],
      [0, 4],
      [0, -4],
    ]);
    expect(views.slice(5, 7).map((v) => v.zoomX)).toEqual([0.95, 1.05]);
    expect(views.slice(7).every((v) => v.flip)).toBe(true);
  });

  it("averages the model's outputs over the views, leaking nothing; off is the plain prediction", () => {
    const m = model();
    const xs = images(5, 1);
    const before = tf.memory().numTensors;
    const plain = tf.tidy(() => Array.from((m.predict(xs) as tf.Tensor).dataSync()));
    const off = predictWithTta(m, xs, 'off');
    expect(Array.from(off.dataSync())).toEqual(plain);
    off.dispose();
    for (const kind of ['shift-scale', 'shift-scale-flip'] as const) {
      const averaged = predictWithTta(m, xs, kind);
      expect(averaged.shape).toEqual([5, 1]);
      const expected = tf.tidy(() => {
        const outs = ttaViews(kind, SIZE).map((view) => {
          const matrix = affineMatrix(view, SIZE, SIZE);
          const moved = tf.image.transform(
            xs,
            tf.tensor2d(Array(5).fill(matrix).flat(), [5, 8]),
            'bilinear',
            'nearest',
          );
          return m.predict(moved) as tf.Tensor;
        });
        return Array.from(tf.div(tf.addN(outs), outs.length).dataSync());
      });
      const got = Array.from(averaged.dataSync());
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
      expect(got).not.toEqual(plain);
      averaged.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    xs.dispose();
    m.dispose();
  });

  it('scores a split with it, batch by batch, as a whole', async () => {
    const m = model();
    const set = syntheticSet(10, SIZE, 2, 4);
    const xs = images(10, 4);
    const whole = predictWithTta(m, xs, 'shift-scale');
    const { scores } = await evaluateInBatches(m, set, 2, 4, undefined, undefined, 'shift-scale');
    Array.from(whole.dataSync()).forEach((v, i) => expect(scores[i]).toBeCloseTo(v, 5));
    tf.dispose([whole, xs]);
    m.dispose();
  });

  it('gives the same scores when the pass also reads features, whose plain output it reuses, leaking nothing', async () => {
    const m = model();
    const set = syntheticSet(10, SIZE, 2, 4);
    const { name, size } = featureLayerOf(m)!;
    const layer = [{ name, size, pooling: 'none' as const }];
    const plain = await evaluateInBatches(m, set, 2, 4, undefined, undefined, 'shift-scale');
    const before = tf.memory().numTensors;
    const withFeatures = await evaluateInBatches(m, set, 2, 4, layer, undefined, 'shift-scale');
    expect(tf.memory().numTensors).toBe(before);
    Array.from(plain.scores).forEach((v, i) => expect(withFeatures.scores[i]).toBeCloseTo(v, 5));
    expect(withFeatures.features).toHaveLength(10 * size);
    m.dispose();
  });
});
