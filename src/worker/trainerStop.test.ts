/** Stopping a run, a second Train while one runs, and a dataset replaced under a run. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, isBatch, settings, setup } from './trainerHarness.testutil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Trainer: stopping', () => {
  it('stops after the current batch, keeps the model, and still evaluates on test', async () => {
    const { ask, progress, replies, types, test } = setup({}, (m, t) => {
      if (isBatch(m, 3)) void t.ask({ type: 'stop', run: m.id });
    });
    await ask(data());
    await ask({ type: 'train', settings: settings() });
    expect(progress('batchEnd')).toHaveLength(3);
    expect(progress('epochEnd')).toHaveLength(0);
    expect(types().slice(-2)).toEqual(['evaluating', 'reply:train']);
    expect(test().scores).toHaveLength(20);
    expect(replies('train')[0]).toMatchObject({
      type: 'train',
      reason: 'stopped',
      epochsDone: 0,
      bestEpoch: null,
      restoredBest: false,
    });
    // The stopped model can still be downloaded.
    await ask({ type: 'exportModel' });
    expect(replies('exportModel')).toHaveLength(1);
  });

  it('counts an epoch whose last batch ran before the stop', async () => {
    const { ask, progress, replies } = setup({}, (m, t) => {
      if (isBatch(m, 6)) void t.ask({ type: 'stop', run: m.id });
    });
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 3 }) });
    expect(progress('batchEnd')).toHaveLength(6);
    expect(progress('epochEnd')).toHaveLength(1);
    expect(replies('train')[0]).toMatchObject({ reason: 'stopped', epochsDone: 1 });
  });

  it('hears a Stop that arrives as a separate event while training runs', async () => {
    const { ask, progress, replies } = setup({}, (m, t) => {
      // Like a message from the page: queued as a task, not handled inside post().
      if (isBatch(m, 2)) setTimeout(() => void t.ask({ type: 'stop', run: m.id }), 0);
    });
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 5 }) });
    expect(progress('batchEnd').length).toBeLessThan(30);
    expect(replies('train')[0].reason).toBe('stopped');
    expect(replies('train')[0].test).not.toBeNull();
  });

  it('answers a Stop when nothing is training, or for another run, that there was nothing to stop', async () => {
    const { ask, messages, replies } = setup({}, (m, t) => {
      if (isBatch(m, 1)) void t.ask({ type: 'stop', run: m.id + 100 });
    });
    await ask({ type: 'stop', run: 1 });
    expect(messages).toEqual([{ type: 'reply', id: 1, reply: { type: 'stop', stopping: false } }]);
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    expect(replies('stop').map((r) => r.stopping)).toEqual([false, false]);
    expect(replies('train')[0].reason).toBe('completed');
  });

  it('refuses a second Train while one runs, and the first run goes on', async () => {
    let second: Promise<number> | null = null;
    const { ask, progress, replies, errors } = setup({}, (m, t) => {
      if (isBatch(m, 1)) second = t.ask({ type: 'train', settings: settings() });
    });
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    await second;
    expect(errors().map((e) => e.message)).toEqual([
      'Training is already running. Press Stop first, or wait for it to end.',
    ]);
    expect(progress('trainingStarted')).toHaveLength(1);
    expect(replies('train')[0]).toMatchObject({ reason: 'completed', epochsDone: 1 });
  });

  it('ends a run whose dataset was replaced, without reporting results on the old data', async () => {
    const { ask, replies, errors } = setup({}, (m, t) => {
      if (isBatch(m, 2)) void t.ask(data());
    });
    await ask(data());
    const before = tf.memory().numTensors;
    await ask({ type: 'train', settings: settings() });
    expect(replies('setData')).toHaveLength(2);
    expect(replies('train')[0]).toMatchObject({ reason: 'stopped', test: null });
    expect(tf.memory().numTensors).toBe(before);
    await ask({ type: 'exportModel' });
    expect(errors().at(-1)?.message).toMatch(/no trained model/);
  });
});
