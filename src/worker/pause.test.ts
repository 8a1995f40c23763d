/** Pause holds a run between batches; Continue lets it go on; Stop ends a paused run. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuOnlyBackends } from '../backends/cpuOnly.testutil';
import { syntheticSet } from '../model/testImages';
import { NO_AUGMENTATION } from '../core/settings';
import type { FromTrainer } from './protocol';
import { Trainer } from './trainer';

const SIZE = 32;
beforeAll(async () => {
  await tf.setBackend('cpu');
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Pause', () => {
  it('holds the run after its current batch until Continue, and Stop ends a held run', async () => {
    const messages: FromTrainer[] = [];
    const trainer = new Trainer((m) => messages.push(m), { backends: new CpuOnlyBackends('') });
    await trainer.handle({
      id: 1,
      request: { type: 'setData', splits: { classNames: ['a', 'b'], train: syntheticSet(32, SIZE, 2, 1), validation: syntheticSet(8, SIZE, 2, 2), test: null } },
    });
    const settings = { model: 'tutorial' as const, imageSize: SIZE, epochs: 3, batchSize: 8, learningRate: 1e-3, learningRateSchedule: 'constant' as const, backend: 'cpu' as const, seed: 1, classWeighting: 'none' as const, patience: 0, augmentation: NO_AUGMENTATION };
    const batches = () => messages.filter((m) => m.type === 'progress' && m.progress.type === 'batchEnd').length;
    const run = trainer.handle({ id: 2, request: { type: 'train', settings } });
    while (batches() < 2) await wait(5);
    await trainer.handle({ id: 3, request: { type: 'pause', run: 2, paused: true } });
    await wait(300);
    const held = batches();
    await wait(500);
    expect(batches()).toBe(held);
    await trainer.handle({ id: 4, request: { type: 'pause', run: 2, paused: false } });
    while (batches() < held + 2) await wait(5);
    await trainer.handle({ id: 5, request: { type: 'pause', run: 2, paused: true } });
    await wait(300);
    await trainer.handle({ id: 6, request: { type: 'stop', run: 2 } });
    await run;
    const reply = messages.find((m) => m.type === 'reply' && m.id === 2);
    expect(reply?.type === 'reply' && reply.reply.type === 'train' && reply.reply.reason).toBe('stopped');
    expect(batches()).toBeLessThan(12);
    // A pause for a run that is over says so and changes nothing.
    await trainer.handle({ id: 7, request: { type: 'pause', run: 2, paused: true } });
    const late = messages.find((m) => m.type === 'reply' && m.id === 7);
    expect(late?.type === 'reply' && late.reply.type === 'pause' && late.reply.pausing).toBe(false);
  });
});
