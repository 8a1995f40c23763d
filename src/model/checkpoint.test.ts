import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { disposeCnn } from './cnn';
import { buildModel, type ModelName } from './models';
import { loadCheckpoint, loadModelFiles, modelFilesOf, parseModelJson } from './checkpoint';
import { syntheticSet, wholeBatch } from './testImages.testutil';
import { weightedTrainStep } from './weightedStep';

const SIZE = 32;
const built: tf.LayersModel[] = [];
const build = (name: ModelName) => {
  // Dropout seeded: both models must draw the same mask for the same step.
  const model = buildModel(name, { imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 5, dropoutSeed: 9 });
  built.push(model);
  return model;
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  built.splice(0).forEach(disposeCnn);
});

const maxDifference = (a: tf.Tensor[], b: tf.Tensor[]) =>
  Math.max(...a.map((t, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(t, b[i]))).dataSync()[0])));

describe.each<ModelName>(['tutorial', 'batchnorm'])('a %s checkpoint', (name) => {
  it('continues exactly where the saved run stopped: the next step is the same step', async () => {
    const set = syntheticSet(8, SIZE, 2, 3);
    const { xs, ys } = wholeBatch(set, 2);
    const original = build(name);
    for (let i = 0; i < 3; i++) await weightedTrainStep(original, xs, ys, [1, 2]);
    const files = await modelFilesOf(original, true);
    expect(parseModelJson(files.modelJson).weightsManifest[0].weights.some((w) => w.group === 'optimizer')).toBe(true);

    const resumed = build(name);
    expect((await loadCheckpoint(resumed, files)).withOptimizer).toBe(true);
    expect(maxDifference(resumed.getWeights(), original.getWeights())).toBe(0);
    await weightedTrainStep(original, xs, ys, [1, 2]);
    await weightedTrainStep(resumed, xs, ys, [1, 2]);
    expect(maxDifference(resumed.getWeights(), original.getWeights())).toBeLessThan(1e-6);

    // Without the optimizer's state RMSprop starts from zero: the step differs (so the test above means something).
    const fresh = build(name);
    await loadCheckpoint(fresh, await modelFilesOf(original, false));
    await weightedTrainStep(original, xs, ys, [1, 2]);
    await weightedTrainStep(fresh, xs, ys, [1, 2]);
    expect(maxDifference(fresh.getWeights(), original.getWeights())).toBeGreaterThan(1e-4);
    tf.dispose([xs, ys]);
  });

  it('loads as a model that predicts what the original predicts, with or without the optimizer state in the files', async () => {
    const original = build(name);
    const { xs, ys } = wholeBatch(syntheticSet(6, SIZE, 2, 4), 2);
    await weightedTrainStep(original, xs, ys, [1, 1]);
    const before = tf.memory().numTensors;
    for (const withOptimizer of [false, true]) {
      const loaded = await loadModelFiles(await modelFilesOf(original, withOptimizer));
      const [a, b] = [original.predict(xs) as tf.Tensor, loaded.predict(xs) as tf.Tensor];
      expect(maxDifference([a], [b])).toBeLessThan(1e-6);
      tf.dispose([a, b]);
      loaded.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xs, ys]);
  });
});

describe('files that are not a model', () => {
  it('are refused in words', async () => {
    await expect(loadModelFiles({ modelJson: 'nope', weights: new ArrayBuffer(0) })).rejects.toThrow(/not JSON/);
    await expect(loadModelFiles({ modelJson: '{"a":1}', weights: new ArrayBuffer(0) })).rejects.toThrow(
      /no model topology/,
    );
    const model = build('tutorial');
    const files = await modelFilesOf(model, false);
    await expect(loadModelFiles({ ...files, weights: files.weights.slice(0, 100) })).rejects.toThrow(
      /do not belong together/,
    );
  });
});
