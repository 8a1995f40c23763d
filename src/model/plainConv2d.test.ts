import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeCnn } from './cnn';
import { buildModel } from './models';
import { PlainGradientConv2D } from './plainConv2d';
import { weightedTrainStep } from './weightedStep';

const SIZE = 40;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Kernels run by one training step of `model` on a batch of 4, by name. */
async function kernelsOfStep(model: tf.LayersModel): Promise<Record<string, number>> {
  const xs = tf.randomUniform([4, SIZE, SIZE, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const ys = tf.tensor2d([[0], [1], [0], [1]]);
  const info = await tf.profile(async () => {
    await weightedTrainStep(model, xs, ys, [1, 1]);
  });
  xs.dispose();
  ys.dispose();
  const counts: Record<string, number> = {};
  for (const kernel of info.kernels) counts[kernel.name] = (counts[kernel.name] ?? 0) + 1;
  return counts;
}

describe('Conv2D with a plain gradient', () => {
  it('no longer computes the images’ gradient in a BatchNorm model’s step (3 input gradients for 4 convolutions)', async () => {
    const model = buildModel('batchnorm', { imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 1 });
    const kernels = await kernelsOfStep(model);
    expect(kernels.Conv2DBackpropFilter).toBe(4);
    expect(kernels.Conv2DBackpropInput).toBe(3);
    disposeCnn(model);
  });

  it('computes what tfjs’ fused Conv2D computes: outputs and the weights after a step', async () => {
    const ours = buildModel('batchnorm', { imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 1 });
    // The same network with tfjs' own class for the convolutions (the fused path), the same weights.
    const theirs = await tf.models.modelFromJSON({
      modelTopology: ours.toJSON(null, false) as tf.io.ModelJSON['modelTopology'],
    });
    for (const layer of theirs.layers) {
      if (layer.getClassName() === 'Conv2D') expect(layer).toBeInstanceOf(PlainGradientConv2D);
    }
    // modelFromJSON builds our class too (it is registered under Conv2D): swap in tfjs' fused call to compare.
    const fusedCall = Object.getPrototypeOf(PlainGradientConv2D.prototype).call;
    for (const layer of theirs.layers) if (layer instanceof PlainGradientConv2D) layer.call = fusedCall.bind(layer);
    theirs.setWeights(ours.getWeights());
    // Dropout's masks are drawn afresh at every call: off in both, so the two steps see the same network.
    for (const layer of [...ours.layers, ...theirs.layers])
      if (layer.getClassName() === 'Dropout') (layer as unknown as { rate: number }).rate = 0;
    theirs.compile({ optimizer: tf.train.rmsprop(1e-3), loss: 'binaryCrossentropy' });
    ours.compile({ optimizer: tf.train.rmsprop(1e-3), loss: 'binaryCrossentropy' });
    const xs = tf.randomUniform([4, SIZE, SIZE, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const ys = tf.tensor2d([[0], [1], [1], [0]]);
    const a = await weightedTrainStep(ours, xs, ys, [1, 1]);
    const b = await weightedTrainStep(theirs, xs, ys, [1, 1]);
    expect(a.loss).toBeCloseTo(b.loss, 6);
    const after = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
    const [wa, wb] = [after(ours), after(theirs)];
    let worst = 0;
    wa.forEach((w, i) => w.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - wb[i][j])))));
    expect(worst).toBeLessThan(1e-6);
    // And the comparison was with the fused path: it still computes the images' gradient.
    expect((await kernelsOfStep(theirs)).Conv2DBackpropInput).toBe(4);
    xs.dispose();
    ys.dispose();
    disposeCnn(ours);
    disposeCnn(theirs);
  });

  it('keeps Keras’ class name and config', () => {
    const model = buildModel('batchnorm', { imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 1 });
    const conv = model.layers[0];
    expect(conv.getClassName()).toBe('Conv2D');
    expect(conv.getConfig()).toMatchObject({ filters: 32, kernelSize: [2, 2], useBias: false, activation: 'linear' });
    disposeCnn(model);
  });
});
