import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, NO_AUGMENTATION } from '../core/settings';
import type { TrainSettings } from '../core/types';
import { buildTutorialCnn } from '../model/cnn';
import { syntheticSet } from '../model/testImages.testutil';
import { cpuLayout, withCpuGather } from './cpuGather.testutil';
import type { TrainProgress } from './protocol';
import { ResidentSplits } from './residentSplits';
import { FRESH_START, trainEpochs, type RunContext } from './trainingRun';
import { evaluateFinal } from './finalEvaluation';

// A run and its final evaluation with the splits held "on the GPU" (the cpu backend with a gather kernel that unpacks
// as the shaders do, 3 bytes a word as on WebGL) against the same run on CPU batches: the very same figures.
beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SIZE = 32;
const data = {
  classNames: ['NORMAL', 'PNEUMONIA'],
  train: syntheticSet(24, SIZE, 2, 1),
  validation: syntheticSet(6, SIZE, 2, 2),
  test: syntheticSet(5, SIZE, 2, 3),
};

// The defaults, for a small quick run.
const settings: TrainSettings = {
  ...DEFAULT_SETTINGS,
  model: 'tutorial',
  imageSize: SIZE,
  epochs: 2,
  batchSize: 8,
  backend: 'cpu',
  augmentation: { ...NO_AUGMENTATION },
};

/** Trains and evaluates; `held` (when given) is asked what it holds after training and after evaluating. */
async function trainAndEvaluate(images?: ResidentSplits) {
  // Dropout seeded (the same mask every batch), so that two runs are the same run.
  const model = buildTutorialCnn({ imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 1, dropoutSeed: 5 });
  const epochs: number[][] = [];
  const progress = (m: TrainProgress) => {
    if (m.type === 'epochEnd') epochs.push([m.loss, m.accuracy, m.valLoss, m.valAccuracy]);
  };
  const control = { stopRequested: false, superseded: false, contextLost: false };
  const context: RunContext = { model, data, settings, start: FRESH_START, control, progress, now: () => 0, images };
  await trainEpochs(context);
  const heldAfterTraining = images?.bytes ?? 0;
  const { test } = await evaluateFinal(context, settings.batchSize, { fit: 'layers' });
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.optimizer?.dispose();
  model.dispose();
  return { epochs, test: [test.loss, test.accuracy, ...test.scores], weights, heldAfterTraining };
}

describe('a run with its splits resident', () => {
  it('trains and evaluates to the very figures of CPU batches, holding train and validation, then test', async () => {
    const cpu = await trainAndEvaluate();
    await withCpuGather(cpuLayout(3), async () => {
      const before = tf.memory().numTensors;
      // Without splits of the caller's: each part holds its own and frees them.
      const own = await trainAndEvaluate();
      expect(tf.memory().numTensors).toBe(before);
      const images = new ResidentSplits();
      const held = await trainAndEvaluate(images);
      // Train (24 images of 1,024 bytes) and validation (6), 3 bytes a word, 4 GPU bytes a word.
      expect(held.heldAfterTraining).toBe(4 * (Math.ceil((24 * 1024) / 3) + Math.ceil((6 * 1024) / 3)));
      // After the final evaluation: validation and test; the training images were released for the test split.
      expect(images.bytes).toBe(4 * (Math.ceil((6 * 1024) / 3) + Math.ceil((5 * 1024) / 3)));
      images.dispose();
      expect(tf.memory().numTensors).toBe(before);
      for (const run of [own, held]) {
        expect(run.epochs).toEqual(cpu.epochs);
        expect(run.test).toEqual(cpu.test);
        expect(run.weights).toEqual(cpu.weights);
      }
    });
  });
});
