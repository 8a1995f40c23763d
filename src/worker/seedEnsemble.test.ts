import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS, NO_AUGMENTATION, trainSettingsOf } from '../core/settings';
import type { ModelFiles, TrainSettings } from '../core/types';
import { disposeCnn } from '../model/cnn';
import { loadModelFiles } from '../model/checkpoint';
import { ensembleMembersOf } from '../model/ensemble';
import type { FromTrainer, ResumeFrom, TrainerReply, TrainerRequest, TrainProgress } from './protocol';
import { dataRequest, firstKernel, setup, SIZE } from './snapshotTrainer.testutil';

/** The seeds each model was built with and each member's run was shuffled with, in order. */
const seeds = vi.hoisted(() => ({ built: [] as number[], shuffled: [] as number[] }));
vi.mock('../model/models', async (importOriginal) => {
  const original = await importOriginal<typeof import('../model/models')>();
  return {
    ...original,
    buildModel: (...args: Parameters<typeof original.buildModel>) => {
      seeds.built.push(args[1].seed ?? Number.NaN);
      return original.buildModel(...args);
    },
  };
});
vi.mock('./trainingRun', async (importOriginal) => {
  const original = await importOriginal<typeof import('./trainingRun')>();
  return {
    ...original,
    trainEpochs: (context: Parameters<typeof original.trainEpochs>[0]) => {
      seeds.shuffled.push(context.settings.seed);
      return original.trainEpochs(context);
    },
  };
});

type Checkpoint = Extract<TrainProgress, { type: 'checkpoint' }>;
type TrainReply = Extract<TrainerReply, { type: 'train' }>;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A Trainer that stops its run once the checkpoint of epoch `stopAfter` without members is posted, and its log. */
function trainer(stopAfter: number | null = null) {
  const progress: TrainProgress[] = [];
  const { ask, checkpoints } = setup((message: FromTrainer, t) => {
    if (message.type !== 'progress') return;
    progress.push(message.progress);
    const p = message.progress;
    if (p.type === 'checkpoint' && p.epoch === stopAfter && !p.snapshots)
      void t.handle({ id: 99, request: { type: 'stop', run: message.id } });
  });
  return {
    ask: async (request: TrainerRequest) => {
      const { error, reply } = await ask(request);
      return { error, reply: reply as TrainReply | null };
    },
    checkpoints: checkpoints as () => Checkpoint[],
    progress,
  };
}

const data = dataRequest();

function settings(overrides: Partial<TrainSettings> = {}): TrainSettings {
  return {
    ...trainSettingsOf(DEFAULT_SETTINGS),
    imageSize: SIZE,
    epochs: 2,
    batchSize: 8,
    patience: 0,
    augmentation: NO_AUGMENTATION,
    seed: 1,
    seedModels: 2,
    ...overrides,
  };
}

const maxDifference = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

describe('a seed ensemble', () => {
  let ensemble: ModelFiles;
  let memberCheckpoints: Checkpoint[];

  it('trains member k from seed + 1009 k, one after another, and stacks them', async () => {
    const run = trainer();
    await run.ask(data);
    seeds.built.length = 0;
    seeds.shuffled.length = 0;
    const { error, reply } = await run.ask({ type: 'train', settings: settings({ seed: 7, seedModels: 3 }) });
    expect(error).toBeNull();
    // Member k initialised and shuffled with 7 + 1009 k: k = 0 is the plain run's seed.
    expect(seeds.built.slice(0, 3)).toEqual([7, 1016, 2025]);
    expect(seeds.shuffled).toEqual([7, 1016, 2025]);
    expect(reply?.ensemble).toMatchObject({ kind: 'seeds', members: 3 });
    expect(reply?.ensemble?.trainingTimeRatio).toBeGreaterThan(1);
    ensemble = reply?.model as ModelFiles;
    const model = await loadModelFiles(ensemble);
    expect(ensembleMembersOf(model)).toBe(3);
    disposeCnn(model);
    // The page sees one run of 3 x 2 epochs, member k in epochs [2k, 2k + 2).
    const started = run.progress.filter((p) => p.type === 'trainingStarted');
    expect(started.map((p) => [p.epochs, p.members])).toEqual([
      [6, 3],
      [6, 3],
      [6, 3],
    ]);
    expect(run.progress.flatMap((p) => (p.type === 'epochEnd' ? [p.epoch] : []))).toEqual([0, 1, 2, 3, 4, 5]);
    const batches = run.progress.flatMap((p) => (p.type === 'batchEnd' ? [p.batchesDone] : []));
    expect(batches).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    // Each member's end is a checkpoint with the members finished so far beside it.
    const checkpoints = run.checkpoints();
    expect(checkpoints.map((c) => [c.epoch, c.snapshots ? 1 : 0])).toEqual([
      [0, 0],
      [1, 0],
      [1, 1],
      [2, 0],
      [3, 0],
      [3, 1],
      [4, 0],
      [5, 0],
      [5, 1],
    ]);
    // Each member in the stacked model is its own run's final weights, and the members differ (their seeds do).
    for (const [k, c] of [checkpoints[2], checkpoints[5], checkpoints[8]].entries())
      expect(await firstKernel(ensemble, k, 3)).toEqual(await firstKernel(c.files, 0, 1));
    expect(maxDifference(await firstKernel(ensemble, 0, 3), await firstKernel(ensemble, 1, 3))).toBeGreaterThan(1e-3);
    memberCheckpoints = [checkpoints[2], checkpoints[5]];
  });

  it('stopped in its second member keeps the first, whole, as the one model', async () => {
    const run = trainer(2);
    await run.ask(data);
    const { error, reply } = await run.ask({ type: 'train', settings: settings() });
    expect(error).toBeNull();
    expect(reply?.reason).toBe('stopped');
    expect(reply?.ensemble ?? null).toBeNull();
    const model = reply?.model as ModelFiles;
    const memberEnd = run.checkpoints().find((c) => c.snapshots) as Checkpoint;
    expect(await firstKernel(model, 0, 1)).toEqual(await firstKernel(memberEnd.files, 0, 1));
  });

  it('resumes in the member it was in, with the finished members stored beside the checkpoint', async () => {
    // Cut short after the run's epoch 2 (member 1's first): member 0 is stored beside that checkpoint.
    const first = trainer(2);
    await first.ask(data);
    await first.ask({ type: 'train', settings: settings() });
    const checkpoints = first.checkpoints();
    const last = checkpoints.at(-1) as Checkpoint;
    expect(last.epoch).toBe(2);
    const stored = checkpoints.filter((c) => c.snapshots).at(-1)?.snapshots ?? null;

    const second = trainer();
    await second.ask(data);
    const resume: ResumeFrom = {
      checkpoint: last.files,
      epochsDone: 3,
      batchesDone: 12,
      best: null,
      snapshots: stored,
    };
    const { error, reply } = await second.ask({ type: 'train', settings: settings(), resume });
    expect(error).toBeNull();
    expect(reply?.ensemble).toMatchObject({ kind: 'seeds', members: 2, trainingTimeRatio: null });
    // Only member 1's last epoch was left to train.
    expect(second.progress.flatMap((p) => (p.type === 'epochEnd' ? [p.epoch] : []))).toEqual([3]);
    const stacked = reply?.model as ModelFiles;
    const memberEnds = [...checkpoints, ...second.checkpoints()].filter((c) => c.snapshots);
    expect(memberEnds.map((c) => c.epoch)).toEqual([1, 3]);
    for (const k of [0, 1])
      expect(await firstKernel(stacked, k, 2)).toEqual(await firstKernel(memberEnds[k].files, 0, 1));
  });

  it('refuses finished members that do not fit the run, in words', async () => {
    const stored = memberCheckpoints[0].snapshots as ModelFiles;
    const run = trainer();
    await run.ask(data);
    const nan = stored.weights.slice(0);
    new Float32Array(nan)[3] = Number.NaN;
    const cases: [ModelFiles, number][] = [
      [{ ...stored, weights: nan }, 2],
      [{ ...stored, weights: stored.weights.slice(4) }, 2],
      [{ ...stored, modelJson: stored.modelJson.replace('"snapshots":1', '"snapshots":3') }, 2],
      [{ ...stored, modelJson: '{' }, 2],
      // One member finished cannot be stored before the run's first epoch ended.
      [stored, 0],
    ];
    for (const [files, epochsDone] of cases) {
      const resume: ResumeFrom = {
        checkpoint: memberCheckpoints[0].files,
        epochsDone,
        batchesDone: epochsDone * 4,
        best: null,
        snapshots: files,
      };
      const { error } = await run.ask({ type: 'train', settings: settings(), resume });
      expect(error).toMatch(/finished members cannot be used.*Train the seed ensemble again/);
    }
  });

  it('is refused together with a snapshot ensemble, and trains one model for more than 2 classes', async () => {
    const run = trainer();
    await run.ask(data);
    const both = await run.ask({ type: 'train', settings: settings({ snapshots: 2 }) });
    expect(both.error).toMatch(/Seed ensemble 2 and Snapshot ensemble 2 cannot be combined/);

    const three = trainer();
    await three.ask(dataRequest(3));
    const { error, reply } = await three.ask({ type: 'train', settings: settings({ epochs: 1 }) });
    expect(error).toBeNull();
    expect(reply?.ensemble ?? null).toBeNull();
    expect(three.progress.flatMap((p) => (p.type === 'epochEnd' ? [p.epoch] : []))).toEqual([0]);
  });
});
