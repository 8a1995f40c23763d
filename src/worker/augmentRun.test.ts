/** Augmentation inside a real training run: applied on the backend, and leak-free. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { WasmOnlyBackends } from '../backends/wasmOnly.testutil';
import { syntheticSet } from '../model/testImages.testutil';
import { NO_AUGMENTATION, NO_RECIPE } from '../core/settings';
import type { AugmentationSettings, TrainSettings } from '../core/types';
import type { FromTrainer } from './protocol';
import { Trainer } from './trainer';

const SIZE = 32;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function settings(augmentation: AugmentationSettings): TrainSettings {
  return {
    model: 'tutorial',
    imageSize: SIZE,
    epochs: 1,
    batchSize: 8,
    learningRate: 2e-3,
    learningRateSchedule: 'constant',
    intensityNormalisation: 'none',
    backend: 'wasm',
    seed: 4,
    classWeighting: 'none',
    patience: 0,
    augmentation,
    ...NO_RECIPE,
  };
}

/** The kernels one run used, its training losses, and the tensors it left behind. */
async function run(
  augmentation: AugmentationSettings,
): Promise<{ kernels: string[]; losses: number[]; errors: string[]; leaked: number }> {
  const messages: FromTrainer[] = [];
  const trainer = new Trainer((m) => messages.push(m), { backends: new WasmOnlyBackends('') });
  await trainer.handle({
    id: 1,
    request: {
      type: 'setData',
      splits: {
        classNames: ['NORMAL', 'PNEUMONIA'],
        train: syntheticSet(24, SIZE, 2, 1),
        validation: syntheticSet(8, SIZE, 2, 2),
        test: null,
      },
    },
  });
  const profile = await tf.profile(() =>
    trainer.handle({ id: 2, request: { type: 'train', settings: settings(augmentation) } }),
  );
  // The trained model stays (Predict, download, Resume; also across a new dataset): a second run replaces it, and
  // leaves exactly as many tensors as the first did.
  const afterFirst = tf.memory().numTensors;
  await trainer.handle({ id: 3, request: { type: 'train', settings: settings(augmentation) } });
  const next = {
    classNames: ['a', 'b'],
    train: syntheticSet(2, SIZE, 2, 3),
    validation: syntheticSet(2, SIZE, 2, 4),
    test: null,
  };
  await trainer.handle({ id: 4, request: { type: 'setData', splits: next } });
  const runLosses = (id: number) =>
    messages.flatMap((m) =>
      m.type === 'progress' && m.id === id && m.progress.type === 'batchEnd' ? [m.progress.loss] : [],
    );
  expect(runLosses(3)).toHaveLength(runLosses(2).length);
  return {
    kernels: profile.kernelNames,
    losses: runLosses(2),
    errors: messages.flatMap((m) => (m.type === 'error' ? [m.message] : [])),
    leaked: tf.memory().numTensors - afterFirst,
  };
}

describe('training with augmentation', () => {
  it('transforms the training images on the backend only when augmentation is on, and frees every tensor', async () => {
    const plain = await run(NO_AUGMENTATION);
    const augmented = await run({
      rotation: 15,
      zoom: 0.2,
      shift: 0.1,
      shear: 10,
      brightness: 0.2,
      horizontalFlip: true,
      contrast: 0.3,
      gamma: 0.3,
      blur: 1,
      noise: 0.05,
      crop: 0.3,
    });
    for (const r of [plain, augmented]) {
      expect(r.errors).toEqual([]);
      expect(r.losses).toHaveLength(3);
      expect(r.leaked).toBe(0);
    }
    expect(plain.kernels).not.toContain('Transform');
    expect(augmented.kernels).toContain('Transform');
  });

  it('refuses settings out of range before it starts', async () => {
    const messages: FromTrainer[] = [];
    const trainer = new Trainer((m) => messages.push(m));
    const splits = {
      classNames: ['a', 'b'],
      train: syntheticSet(4, SIZE, 2, 1),
      validation: syntheticSet(2, SIZE, 2, 2),
      test: null,
    };
    await trainer.handle({ id: 1, request: { type: 'setData', splits } });
    await trainer.handle({
      id: 2,
      request: { type: 'train', settings: settings({ ...NO_AUGMENTATION, rotation: 400 }) },
    });
    expect(messages.map((m) => m.type)).toEqual(['reply', 'error']);
    expect(messages[1]).toMatchObject({ id: 2, message: expect.stringMatching(/Rotation must be between 0 and 180/) });
  });
});
