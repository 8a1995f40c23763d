import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../core/settings';
import { disposeCnn } from './cnn';
import { MODEL_NAMES, buildModel } from './models';
import { summarizeModel } from './summary';
import { syntheticSet, wholeBatch } from './testImages.testutil';
import { weightedTrainStep } from './weightedStep';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('MODEL_NAMES and buildModel', () => {
  it('offers every model the settings table offers, the tutorial among them', () => {
    expect(SETTINGS.model.values).toEqual(MODEL_NAMES);
    expect(MODEL_NAMES).toContain('tutorial');
    expect(MODEL_NAMES).toContain(SETTINGS.model.default);
  });

  it('builds the tutorial CNN by name, 151,969 parameters at 150 px', () => {
    const model = buildModel('tutorial', { imageSize: 150, numClasses: 2, learningRate: 1e-3, seed: 1 });
    expect(model.name).toBe('tutorial_cnn');
    expect(model.countParams()).toBe(151_969);
    disposeCnn(model);
  });

  it('refuses a name it does not know', () => {
    expect(() => buildModel('resnet' as never, { imageSize: 64, numClasses: 2, learningRate: 1e-3 })).toThrow(
      /Unknown model "resnet"/,
    );
  });
});

describe('the batchnorm model', () => {
  it('is the tutorial blocks with BatchNormalization before each ReLU: 152,449 parameters at 150 px', () => {
    const model = buildModel('batchnorm', { imageSize: 150, numClasses: 2, learningRate: 1e-3, seed: 1 });
    const summary = summarizeModel(model);
    const block = (conv: string, convParams: number, filters: number, pooled: string) => [
      ['Conv2D', conv, convParams],
      ['BatchNormalization', conv, 4 * filters],
      ['ReLU', conv, 0],
      ['MaxPooling2D', pooled, 0],
    ];
    expect(summary.layers.map((l) => [l.className, l.outputShape, l.params])).toEqual([
      ...block('[null,149,149,32]', 128, 32, '[null,74,74,32]'),
      ...block('[null,73,73,32]', 4096, 32, '[null,36,36,32]'),
      ...block('[null,35,35,64]', 8192, 64, '[null,17,17,64]'),
      ...block('[null,16,16,32]', 8192, 32, '[null,8,8,32]'),
      ['Flatten', '[null,2048]', 0],
      ['Dense', '[null,64]', 131136],
      ['Dropout', '[null,64]', 0],
      ['Dense', '[null,1]', 65],
    ]);
    // The convolutions lose their 160 biases; BatchNormalization adds 4 a channel (160 channels), 2 of them running statistics.
    expect(summary.totalParams).toBe(152_449);
    expect(summary.trainableParams).toBe(152_449 - 2 * 160);
    const conv = model.layers[0].getConfig();
    expect(conv).toMatchObject({ kernelSize: [2, 2], padding: 'valid', useBias: false, activation: 'linear' });
    expect(model.layers[1].getConfig()).toMatchObject({ momentum: 0.9, epsilon: 1e-3, axis: -1 });
    expect(model.loss).toBe('binaryCrossentropy');
    disposeCnn(model);
  });

  it('takes the same sizes as the tutorial (31 px at least) and a softmax head for 3 classes', () => {
    const model = buildModel('batchnorm', { imageSize: 31, numClasses: 3, learningRate: 1e-3, seed: 1 });
    expect(model.outputs[0].shape).toEqual([null, 3]);
    expect(model.loss).toBe('categoricalCrossentropy');
    disposeCnn(model);
    expect(() => buildModel('batchnorm', { imageSize: 30, numClasses: 2, learningRate: 1e-3 })).toThrow(
      /at least 31 px/,
    );
  });

  it('gives the same initial weights for the same seed', () => {
    const weightsOf = (seed: number) => {
      const model = buildModel('batchnorm', { imageSize: 32, numClasses: 2, learningRate: 1e-3, seed });
      const values = model.getWeights().map((w) => Array.from(w.dataSync()));
      disposeCnn(model);
      return values;
    };
    expect(weightsOf(5)).toEqual(weightsOf(5));
    expect(weightsOf(5)).not.toEqual(weightsOf(6));
  });
});

describe.each(MODEL_NAMES)('training the %s model a few class-weighted steps', (name) => {
  it('lowers the loss, moves the running statistics, and keeps the tensor count flat', async () => {
    const set = syntheticSet(16, 32, 2, 3);
    const batch = wholeBatch(set, 2);
    const model = buildModel(name, { imageSize: 32, numClasses: 2, learningRate: 3e-3, seed: 1 });
    const nonTrainable = () => model.nonTrainableWeights.map((w) => Array.from(w.read().dataSync()));
    const statsBefore = nonTrainable();
    const tensors: number[] = [];
    const losses: number[] = [];
    for (let step = 0; step < 6; step++) {
      losses.push((await weightedTrainStep(model, batch.xs, batch.ys, [1, 1])).loss);
      tensors.push(tf.memory().numTensors);
    }
    // The loss of the step (training mode: the batch's own statistics) goes down; inference (the running
    // statistics, which a few steps move only part of the way) still gives a finite loss.
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    expect(Number.isFinite(tf.tidy(() => (model.evaluate(batch.xs, batch.ys) as tf.Scalar[])[0].dataSync()[0]))).toBe(
      true,
    );
    expect(new Set(tensors.slice(1)).size).toBe(1);
    if (name === 'batchnorm') {
      expect(statsBefore).toHaveLength(8);
      expect(nonTrainable()).not.toEqual(statsBefore);
    } else {
      expect(statsBefore).toHaveLength(0);
    }
    tf.dispose([batch.xs, batch.ys]);
    disposeCnn(model);
  });
});
