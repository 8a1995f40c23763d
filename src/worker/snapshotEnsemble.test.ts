import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, NO_AUGMENTATION, trainSettingsOf } from '../core/settings';
import type { ModelFiles, TrainSettings } from '../core/types';
import { disposeCnn } from '../model/cnn';
import { loadModelFiles } from '../model/checkpoint';
import { ensembleMembersOf } from '../model/ensemble';
import { syntheticSet } from '../model/testImages.testutil';
import type { TrainerReply } from './protocol';
import { dataRequest, setup, SIZE } from './snapshotTrainer.testutil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The app's defaults at a small size, no augmentation; patience 1 would stop a single model's run early. */
function settings(overrides: Partial<TrainSettings> = {}): TrainSettings {
  const defaults = trainSettingsOf(DEFAULT_SETTINGS);
  return {
    ...defaults,
    imageSize: SIZE,
    epochs: 3,
    batchSize: 8,
    patience: 1,
    augmentation: NO_AUGMENTATION,
    ...overrides,
  };
}

async function predictWith(files: ModelFiles, xs: tf.Tensor4D): Promise<Float32Array> {
  const model = await loadModelFiles(files);
  try {
    return tf.tidy(() => (model.predict(xs) as tf.Tensor).dataSync() as Float32Array);
  } finally {
    disposeCnn(model);
  }
}

describe('Trainer: a snapshot ensemble run', () => {
  it('trains every epoch, stacks the cycle-end snapshots as one model and evaluates, predicts with it', async () => {
    const { ask, checkpoints: checkpointsOf } = setup();
    await ask(dataRequest());
    const { error, reply } = await ask({ type: 'train', settings: settings({ snapshots: 2 }) });
    expect(error).toBeNull();
    const train = reply as Extract<TrainerReply, { type: 'train' }>;
    expect(train.epochsDone).toBe(3);
    expect(train.reason).toBe('completed');
    expect(train.test).not.toBeNull();
    expect(train.ensemble).toMatchObject({ kind: 'snapshot', members: 2 });
    expect(train.ensemble?.predictTimeRatio).toBeGreaterThan(0);
    const files = train.model as ModelFiles;
    const stacked = await loadModelFiles(files);
    expect(ensembleMembersOf(stacked)).toBe(2);
    disposeCnn(stacked);

    // Cycles of 3 epochs in 2: epochs [0, 1) and [1, 3); the snapshots are the checkpoints after epochs 0 and 2.
    const checkpoints = checkpointsOf();
    expect(checkpoints.map((c) => c.epoch)).toEqual([0, 1, 2]);
    const test = syntheticSet(6, SIZE, 2, 7);
    const xs = tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(test.pixels), [6, SIZE, SIZE, 1]), 255));
    const first = await predictWith(checkpoints[0].files, xs as tf.Tensor4D);
    const last = await predictWith(checkpoints[2].files, xs as tf.Tensor4D);
    const ensemble = await predictWith(files, xs as tf.Tensor4D);
    for (let i = 0; i < 6; i++) expect(ensemble[i]).toBeCloseTo((first[i] + last[i]) / 2, 5);

    const predicted = await ask({
      type: 'predict',
      pixels: test.pixels,
      count: 6,
      size: SIZE,
      explain: true,
      threshold: null,
    });
    expect(predicted.error).toBeNull();
    const predictions = predicted.reply as Extract<TrainerReply, { type: 'predict' }>;
    // P(class 1) per image, as a run's test scores.
    expect(predictions.scores.length).toBe(6);
    for (let i = 0; i < 6; i++) expect(predictions.scores[i]).toBeCloseTo(ensemble[i], 4);
    expect(predictions.ood).not.toBeNull();
    xs.dispose();

    // The ensemble model cannot be trained further: resuming from it is refused in words.
    const resumed = await ask({
      type: 'train',
      settings: settings(),
      resume: { checkpoint: files, epochsDone: 3, batchesDone: 12, best: null },
    });
    expect(resumed.error).toMatch(/snapshot ensemble .*cannot be trained further/);
  });

  it('after a Stop, stacks the snapshots taken so far (2 of 3)', async () => {
    // Cycles of 3 epochs in 3: a snapshot after every epoch; Stop once the second is taken (after epoch 1).
    const { ask } = setup((message, trainer) => {
      if (message.type === 'progress' && message.progress.type === 'checkpoint' && message.progress.epoch === 1)
        void trainer.handle({ id: 99, request: { type: 'stop', run: 2 } });
    });
    await ask(dataRequest());
    const { error, reply } = await ask({ type: 'train', settings: settings({ snapshots: 3 }) });
    expect(error).toBeNull();
    const train = reply as Extract<TrainerReply, { type: 'train' }>;
    expect(train.reason).toBe('stopped');
    expect(train.ensemble).toMatchObject({ kind: 'snapshot', members: 2 });
    const model = await loadModelFiles(train.model as ModelFiles);
    expect(ensembleMembersOf(model)).toBe(2);
    disposeCnn(model);
  });

  it('falls back instead of refusing: one model for 3 classes, a member an epoch for fewer epochs than members', async () => {
    const { ask } = setup();
    await ask(dataRequest(3));
    const three = await ask({ type: 'train', settings: settings({ snapshots: 2, epochs: 2 }) });
    expect(three.error).toBeNull();
    const one = three.reply as Extract<TrainerReply, { type: 'train' }>;
    expect(one.epochsDone).toBe(2);
    expect(one.ensemble ?? null).toBeNull();
    await ask(dataRequest(2));
    const short = await ask({ type: 'train', settings: settings({ snapshots: 3, epochs: 2 }) });
    expect(short.error).toBeNull();
    expect((short.reply as Extract<TrainerReply, { type: 'train' }>).ensemble).toMatchObject({ members: 2 });
    const single = await ask({ type: 'train', settings: settings({ snapshots: 3, epochs: 1 }) });
    expect(single.error).toBeNull();
    expect((single.reply as Extract<TrainerReply, { type: 'train' }>).ensemble ?? null).toBeNull();
  });
});
