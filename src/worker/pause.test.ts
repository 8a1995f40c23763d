/** Pause holds a run between batches; Continue lets it go on; Stop ends a paused run. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { WasmOnlyBackends } from '../backends/wasmOnly.testutil';
import { syntheticSet } from '../model/testImages.testutil';
import { NO_AUGMENTATION, NO_RECIPE } from '../core/settings';
import type { FromTrainer } from './protocol';
import { Trainer } from './trainer';
import { yieldToEventLoop } from './trainingRun';

const SIZE = 32;
beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Resolves `until(done)` calls when something happens (a message, a held run's turn): no sleeps, no clock. */
function events() {
  const waiting: (() => void)[] = [];
  return {
    happened: () => waiting.splice(0).forEach((wake) => wake()),
    until: async (done: () => boolean) => {
      while (!done()) await new Promise<void>((wake) => waiting.push(wake));
    },
  };
}

describe('Pause', () => {
  it('holds the run after its current batch until Continue, and Stop ends a held run', async () => {
    const messages: FromTrainer[] = [];
    const { happened, until } = events();
    // A held run looks at its control once a turn of the event loop here (50 ms in the app), and says so.
    let heldTurns = 0;
    const heldWait = async () => {
      heldTurns++;
      happened();
      await yieldToEventLoop();
    };
    const post = (m: FromTrainer) => {
      messages.push(m);
      happened();
    };
    const trainer = new Trainer(post, { backends: new WasmOnlyBackends(''), heldWait });
    await trainer.handle({
      id: 1,
      request: {
        type: 'setData',
        splits: {
          classNames: ['a', 'b'],
          train: syntheticSet(32, SIZE, 2, 1),
          validation: syntheticSet(8, SIZE, 2, 2),
          test: null,
        },
      },
    });
    const settings = {
      model: 'tutorial' as const,
      imageSize: SIZE,
      epochs: 3,
      batchSize: 8,
      learningRate: 1e-3,
      learningRateSchedule: 'constant' as const,
      intensityNormalisation: 'none' as const,
      backend: 'wasm' as const,
      seed: 1,
      classWeighting: 'none' as const,
      patience: 0,
      augmentation: NO_AUGMENTATION,
      ...NO_RECIPE,
    };
    const batches = () => messages.filter((m) => m.type === 'progress' && m.progress.type === 'batchEnd').length;
    let ended = false;
    const run = trainer.handle({ id: 2, request: { type: 'train', settings } }).then(() => {
      ended = true;
      happened();
    });
    await until(() => batches() >= 2);
    await trainer.handle({ id: 3, request: { type: 'pause', run: 2, paused: true } });
    await until(() => heldTurns > 0 || ended);
    const held = batches();
    const heldMessages = messages.filter((m) => m.type === 'progress' && m.progress.type === 'held');
    expect(heldMessages.map((m) => m.type === 'progress' && m.progress)).toEqual([{ type: 'held', batchesDone: held }]);
    // The run looks 50 times and stays where it is (a run that went on would end first).
    await until(() => heldTurns >= 50 || ended);
    expect(batches()).toBe(held);
    expect(ended).toBe(false);
    await trainer.handle({ id: 4, request: { type: 'pause', run: 2, paused: false } });
    await until(() => batches() >= held + 2);
    const turnsBefore = heldTurns;
    await trainer.handle({ id: 5, request: { type: 'pause', run: 2, paused: true } });
    await until(() => heldTurns > turnsBefore);
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
