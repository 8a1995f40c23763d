import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../core/settings';
import { buildTutorialCnn, disposeCnn, featureMapSize, minImageSize, validateImageSize } from './cnn';
import { summarizeModel } from './summary';
import { syntheticSet, wholeBatch } from './testImages.testutil';

beforeAll(async () => {
  // The fast cpu kernels come from test/vitest.setup.ts, as the worker registers them.
  await tf.setBackend('cpu');
});

describe('buildTutorialCnn', () => {
  it('has the tutorial layers and exactly 151,969 parameters at 150 px', () => {
    const model = buildTutorialCnn({ imageSize: 150, numClasses: 2, learningRate: 1e-3, seed: 1 });
    const summary = summarizeModel(model);
    expect(summary.layers.map((l) => [l.className, l.outputShape, l.params])).toEqual([
      ['Conv2D', '[null,149,149,32]', 160],
      ['MaxPooling2D', '[null,74,74,32]', 0],
      ['Conv2D', '[null,73,73,32]', 4128],
      ['MaxPooling2D', '[null,36,36,32]', 0],
      ['Conv2D', '[null,35,35,64]', 8256],
      ['MaxPooling2D', '[null,17,17,64]', 0],
      ['Conv2D', '[null,16,16,32]', 8224],
      ['MaxPooling2D', '[null,8,8,32]', 0],
      ['Flatten', '[null,2048]', 0],
      ['Dense', '[null,64]', 131136],
      ['Dropout', '[null,64]', 0],
      ['Dense', '[null,1]', 65],
    ]);
    expect(summary.layers.map((l) => l.name)).toContain('conv2d_1');
    expect(summary.totalParams).toBe(151_969);
    expect(summary.trainableParams).toBe(151_969);
    expect(model.inputs[0].shape).toEqual([null, 150, 150, 1]);
    expect(model.loss).toBe('binaryCrossentropy');
    disposeCnn(model);
  });

  it('uses 2x2 valid convolutions, ReLU, 2x2 pooling, dropout 0.5 and sigmoid, as the tutorial', () => {
    const model = buildTutorialCnn({ imageSize: 64, numClasses: 2, learningRate: 1e-3 });
    const configs = model.layers.map((l) => l.getConfig());
    for (const c of configs.filter((_, i) => model.layers[i].getClassName() === 'Conv2D')) {
      expect(c).toMatchObject({ kernelSize: [2, 2], padding: 'valid', activation: 'relu', strides: [1, 1] });
    }
    for (const c of configs.filter((_, i) => model.layers[i].getClassName() === 'MaxPooling2D')) {
      expect(c).toMatchObject({ poolSize: [2, 2], strides: [2, 2] });
    }
    expect(configs[9]).toMatchObject({ units: 64, activation: 'relu' });
    expect(configs[10]).toMatchObject({ rate: 0.5 });
    expect(configs[11]).toMatchObject({ units: 1, activation: 'sigmoid' });
    expect(model.optimizer.getClassName()).toBe('RMSProp');
    // Keras' RMSprop defaults, epsilon included (tfjs would take 1e-4 from the WebGL backend).
    expect(model.optimizer.getConfig()).toMatchObject({
      learningRate: 1e-3,
      decay: 0.9,
      momentum: 0,
      epsilon: 1e-7,
      centered: false,
    });
    disposeCnn(model);
  });

  it('builds a softmax head with categorical cross-entropy for 3 classes', () => {
    const model = buildTutorialCnn({ imageSize: 32, numClasses: 3, learningRate: 1e-3, seed: 1 });
    expect(model.outputs[0].shape).toEqual([null, 3]);
    expect(model.layers[model.layers.length - 1].getConfig()).toMatchObject({ units: 3, activation: 'softmax' });
    expect(model.loss).toBe('categoricalCrossentropy');
    const out = tf.tidy(() => (model.predict(tf.zeros([2, 32, 32, 1])) as tf.Tensor).sum(1));
    expect(Array.from(out.dataSync()).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([1, 1]);
    out.dispose();
    disposeCnn(model);
  });

  it('gives the same initial weights for the same seed, and different ones for another', () => {
    const weightsOf = (seed: number) => {
      const model = buildTutorialCnn({ imageSize: 32, numClasses: 2, learningRate: 1e-3, seed });
      const values = model.getWeights().map((w) => Array.from(w.dataSync()));
      disposeCnn(model);
      return values;
    };
    const a = weightsOf(7);
    expect(weightsOf(7)).toEqual(a);
    expect(weightsOf(8)).not.toEqual(a);
    // Layers of the same model must not share a seed (equal kernels would be a silent bug).
    expect(a[0].slice(0, 4)).not.toEqual(a[2].slice(0, 4));
  });

  it('lowers the loss in a few steps on learnable images', async () => {
    const set = syntheticSet(16, 32, 2, 3);
    const model = buildTutorialCnn({ imageSize: 32, numClasses: 2, learningRate: 3e-3, seed: 1 });
    const batch = wholeBatch(set, 2);
    const evalLoss = () => tf.tidy(() => (model.evaluate(batch.xs, batch.ys) as tf.Scalar[])[0].dataSync()[0]);
    const before = evalLoss();
    for (let step = 0; step < 8; step++) await model.trainOnBatch(batch.xs, batch.ys);
    const after = evalLoss();
    expect(after).toBeLessThan(before);
    tf.dispose([batch.xs, batch.ys]);
    disposeCnn(model);
  });

  it('frees every tensor it made, optimizer state included', async () => {
    const before = tf.memory().numTensors;
    const model = buildTutorialCnn({ imageSize: 32, numClasses: 3, learningRate: 1e-3, seed: 1 });
    const set = syntheticSet(4, 32, 3, 1);
    const batch = wholeBatch(set, 3);
    await model.trainOnBatch(batch.xs, batch.ys);
    tf.dispose([batch.xs, batch.ys]);
    disposeCnn(model);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('image size limits', () => {
  it('accepts 31 px, the smallest size the four blocks can take', () => {
    expect(minImageSize).toBe(31);
    expect(featureMapSize(31)).toBe(1);
    expect(featureMapSize(150)).toBe(8);
    expect(() => validateImageSize(31)).not.toThrow();
    const model = buildTutorialCnn({ imageSize: 31, numClasses: 2, learningRate: 1e-3 });
    expect(model.layers[7].outputShape).toEqual([null, 1, 1, 32]);
    disposeCnn(model);
  });

  it('is the smallest image size the settings table offers, which alone sets the largest', () => {
    expect(SETTINGS.imageSize.min).toBe(minImageSize);
    expect(() => validateImageSize(SETTINGS.imageSize.max)).not.toThrow();
    expect(featureMapSize(SETTINGS.imageSize.max)).toBeGreaterThan(1);
  });

  it('rejects smaller or fractional sizes with a message saying the minimum', () => {
    expect(() => validateImageSize(30)).toThrow(/at least 31 px/);
    expect(() => buildTutorialCnn({ imageSize: 16, numClasses: 2, learningRate: 1e-3 })).toThrow(/at least 31 px/);
    expect(() => validateImageSize(31.5)).toThrow(/whole number/);
  });

  it('rejects fewer than two classes and bad learning rates', () => {
    expect(() => buildTutorialCnn({ imageSize: 32, numClasses: 1, learningRate: 1e-3 })).toThrow(/at least 2 classes/);
    expect(() => buildTutorialCnn({ imageSize: 32, numClasses: 2, learningRate: 0 })).toThrow(/Learning rate/);
  });
});
