import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, NO_AUGMENTATION, trainSettingsOf } from '../core/settings';
import type { ModelFiles, TrainSettings } from '../core/types';
import { disposeCnn } from '../model/cnn';
import { loadModelFiles } from '../model/checkpoint';
import { ensembleMembersOf } from '../model/ensemble';
import { runLearningRateAt, snapshotsTakenBy } from '../model/learningRate';
import type { ResumeFrom, TrainerReply, TrainerRequest, TrainProgress } from './protocol';
import { dataRequest, firstKernel, setup, SIZE } from './snapshotTrainer.testutil';

type Checkpoint = Extract<TrainProgress, { type: 'checkpoint' }>;
type TrainReply = Extract<TrainerReply, { type: 'train' }>;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The snapshot tests' Trainer, stopping its run once the checkpoint of epoch `stopAfter` is posted. */
function stoppingAfter(stopAfter: number | null = null) {
  const { ask, checkpoints } = setup((message, trainer) => {
    if (message.type === 'progress' && message.progress.type === 'checkpoint' && message.progress.epoch === stopAfter)
      void trainer.handle({ id: 99, request: { type: 'stop', run: message.id } });
  });
  return {
    ask: async (request: TrainerRequest) => {
      const { error, reply } = await ask(request);
      return { error, reply: reply as TrainReply | null };
    },
    checkpoints: checkpoints as () => Checkpoint[],
  };
}

const data = dataRequest();

function settings(overrides: Partial<TrainSettings> = {}): TrainSettings {
  return {
    ...trainSettingsOf(DEFAULT_SETTINGS),
    imageSize: SIZE,
    epochs: 3,
    batchSize: 8,
    augmentation: NO_AUGMENTATION,
    snapshots: 3,
    ...overrides,
  };
}

describe('a snapshot-ensemble run resumed after a reload', () => {
  it('takes the snapshots so far from the checkpoint and stacks all K at the end', async () => {
    // K = 3 over 3 epochs: a snapshot after each. Cut short after epoch 1: 2 snapshots stored beside the checkpoint.
    const first = stoppingAfter(1);
    await first.ask(data);
    const stopped = await first.ask({ type: 'train', settings: settings() });
    expect(stopped.error).toBeNull();
    const checkpoints = first.checkpoints();
    expect(checkpoints.map((c) => c.snapshots !== undefined)).toEqual([true, true]);
    const last = checkpoints[1];

    // A fresh worker (the page reloaded): the rest of the planned epochs, from the checkpoint and its snapshots.
    const second = stoppingAfter();
    await second.ask(data);
    const resume: ResumeFrom = {
      checkpoint: last.files,
      epochsDone: 2,
      batchesDone: 8,
      best: null,
      snapshots: last.snapshots ?? null,
    };
    const resumed = await second.ask({ type: 'train', settings: settings({ epochs: 1 }), resume });
    expect(resumed.error).toBeNull();
    expect(resumed.reply?.epochsDone).toBe(3);
    expect(resumed.reply?.ensemble).toMatchObject({ kind: 'snapshot', members: 3 });
    const stacked = resumed.reply?.model as ModelFiles;
    const model = await loadModelFiles(stacked);
    expect(ensembleMembersOf(model)).toBe(3);
    disposeCnn(model);
    // Members 0 and 1 are the snapshots taken before the reload (the checkpoints of epochs 0 and 1), exactly.
    expect(await firstKernel(stacked, 0, 3)).toEqual(await firstKernel(checkpoints[0].files, 0, 1));
    expect(await firstKernel(stacked, 1, 3)).toEqual(await firstKernel(checkpoints[1].files, 0, 1));
    // The last snapshot is the resumed run's last checkpoint.
    const after = second.checkpoints();
    expect(after.map((c) => c.epoch)).toEqual([2]);
    expect(await firstKernel(stacked, 2, 3)).toEqual(await firstKernel(after[0].files, 0, 1));
  });

  it('goes on at the learning rate of the step of the cycle it was in', () => {
    // 5 epochs in 2 cycles, [0, 2) and [2, 5): resumed after epoch 3, mid-cycle, with 2 epochs to come.
    const s = { learningRateSchedule: 'constant' as const, learningRate: 0.01, snapshots: 2 };
    expect(snapshotsTakenBy(3, 5, 2)).toBe(1);
    expect(snapshotsTakenBy(5, 5, 2)).toBe(2);
    const resumedRate = runLearningRateAt(s, 3, 0, 4, 3 + 2);
    // Step 4 of the 12 of the second cycle: a cosine from 0.01.
    expect(resumedRate).toBeCloseTo((0.01 * (1 + Math.cos((Math.PI * 4) / 12))) / 2, 10);
    expect(resumedRate).toBeLessThan(0.01);
  });

  it('refuses tampered or missing snapshots in words, and the worker still trains after', async () => {
    const first = stoppingAfter(0);
    await first.ask(data);
    await first.ask({ type: 'train', settings: settings() });
    const [checkpoint] = first.checkpoints();
    const snapshots = checkpoint.snapshots as ModelFiles;
    const resume = (files: ModelFiles | null): ResumeFrom => ({
      checkpoint: checkpoint.files,
      epochsDone: 1,
      batchesDone: 4,
      best: null,
      snapshots: files,
    });
    const second = stoppingAfter();
    await second.ask(data);
    const nan = snapshots.weights.slice(0);
    new Float32Array(nan)[5] = Number.NaN;
    const tampered = [
      { ...snapshots, weights: nan },
      { ...snapshots, weights: snapshots.weights.slice(4) },
      { ...snapshots, modelJson: snapshots.modelJson.replace('"snapshots":1', '"snapshots":2') },
      { ...snapshots, modelJson: '{' },
    ];
    for (const files of tampered) {
      const { error } = await second.ask({ type: 'train', settings: settings({ epochs: 2 }), resume: resume(files) });
      expect(error).toMatch(/snapshots cannot be used/);
    }
    const missing = await second.ask({ type: 'train', settings: settings({ epochs: 2 }), resume: resume(null) });
    expect(missing.error).toMatch(/has no snapshots/);
    const whole = await second.ask({ type: 'train', settings: settings({ epochs: 2 }), resume: resume(snapshots) });
    expect(whole.error).toBeNull();
    expect(whole.reply?.ensemble).toMatchObject({ members: 3 });
  });
});
