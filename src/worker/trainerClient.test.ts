import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { NO_AUGMENTATION } from './augment';
import type { AugmentationSettings, Splits, TrainSettings } from '../core/types';
import { syntheticSet } from '../model/testImages.testutil';
import { InMemoryTrainerPort } from './inMemoryTrainer.testutil';
import type { TrainProgress } from './protocol';
import { TrainerClient, TrainerCrashedError, type TrainerPort } from './trainerClient';
import { settings as trainSettings } from './trainerHarness.testutil';

const SIZE = 32;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function splits(): Splits {
  return {
    classNames: ['NORMAL', 'PNEUMONIA'],
    train: syntheticSet(48, SIZE, 2, 1),
    validation: syntheticSet(16, SIZE, 2, 2),
    test: syntheticSet(20, SIZE, 2, 3),
  };
}

/** The Trainer tests' run settings, on the WebAssembly backend. */
function settings(overrides: Partial<TrainSettings> = {}): TrainSettings {
  return trainSettings({ backend: 'wasm', ...overrides });
}

const TILT: AugmentationSettings = { ...NO_AUGMENTATION, rotation: 20 };

function setup() {
  const ports: InMemoryTrainerPort[] = [];
  const client = new TrainerClient(() => {
    const port = new InMemoryTrainerPort();
    ports.push(port);
    return port;
  });
  return { client, ports };
}

/** `until` resolves once a progress message that `pick` accepts has arrived (or already had). */
function progressWatcher() {
  const seen: TrainProgress[] = [];
  const waiters: { pick: (p: TrainProgress) => boolean; resolve: () => void }[] = [];
  const onProgress = (p: TrainProgress) => {
    seen.push(p);
    for (const w of waiters.splice(0)) {
      if (w.pick(p)) w.resolve();
      else waiters.push(w);
    }
  };
  const until = (pick: (p: TrainProgress) => boolean) =>
    new Promise<void>((resolve) => (seen.some(pick) ? resolve() : waiters.push({ pick, resolve })));
  return { seen, onProgress, until };
}

describe('TrainerClient with a real Trainer', () => {
  it('keeps a run going when an augmentation preview fails during it', async () => {
    const { client } = setup();
    await client.request({ type: 'setData', splits: splits() });
    const watch = progressWatcher();
    const run = client.request({ type: 'train', settings: settings() }, watch.onProgress);
    await watch.until((p) => p.type === 'batchEnd' && p.batchesDone === 2);
    // An impossible request fails as an out-of-memory preview would: in the worker, with an error message.
    const preview = client.request({
      type: 'previewAugmentation',
      augmentation: { ...TILT, zoom: 5 },
      indices: [0, 1],
      variants: 2,
      seed: 1,
    });
    await expect(preview).rejects.toThrow(/Zoom must be between 0 and/);
    const outcome = await run;
    expect(outcome).toMatchObject({ type: 'train', reason: 'completed', epochsDone: 2 });
    expect(outcome.test?.scores).toHaveLength(20);
    expect(watch.seen.filter((p) => p.type === 'batchEnd')).toHaveLength(12);
  });

  it('refuses an export during training without touching the run, and exports after it', async () => {
    const { client } = setup();
    await client.request({ type: 'setData', splits: splits() });
    const watch = progressWatcher();
    const run = client.request({ type: 'train', settings: settings({ epochs: 1 }) }, watch.onProgress);
    await watch.until((p) => p.type === 'batchEnd');
    await expect(client.request({ type: 'exportModel' })).rejects.toThrow(/Training is still running/);
    expect((await run).reason).toBe('completed');
    const exported = await client.request({ type: 'exportModel' });
    expect(exported.weights.byteLength).toBeGreaterThan(0);
    expect(client.pendingCount).toBe(0);
  });

  it('gives two racing previews each its own answer', async () => {
    const { client } = setup();
    await client.request({ type: 'setData', splits: splits() });
    const first = client.request({
      type: 'previewAugmentation',
      augmentation: TILT,
      indices: [0, 2, 4],
      variants: 1,
      seed: 1,
    });
    const second = client.request({
      type: 'previewAugmentation',
      augmentation: TILT,
      indices: [1, 3],
      variants: 2,
      seed: 1,
    });
    const [a, b] = await Promise.all([first, second]);
    expect(a).toMatchObject({
      type: 'previewAugmentation',
      count: 3,
      variants: 1,
      classes: ['NORMAL', 'NORMAL', 'NORMAL'],
    });
    expect(a.pixels).toHaveLength(3 * SIZE * SIZE);
    expect(b).toMatchObject({
      type: 'previewAugmentation',
      count: 2,
      variants: 2,
      classes: ['PNEUMONIA', 'PNEUMONIA'],
    });
    expect(b.pixels).toHaveLength(4 * SIZE * SIZE);
  });

  it('stops the run it names, and only that one', async () => {
    const { client } = setup();
    await client.request({ type: 'setData', splits: splits() });
    const watch = progressWatcher();
    const run = client.start({ type: 'train', settings: settings({ epochs: 3 }) }, watch.onProgress);
    await watch.until((p) => p.type === 'batchEnd' && p.batchesDone === 1);
    expect(await client.request({ type: 'stop', run: run.id + 1 })).toEqual({ type: 'stop', stopping: false });
    expect(await client.request({ type: 'stop', run: run.id })).toEqual({ type: 'stop', stopping: true });
    const outcome = await run.reply;
    expect(outcome.reason).toBe('stopped');
    expect(watch.seen.filter((p) => p.type === 'batchEnd').length).toBeLessThan(18);
  });

  it('fails every pending request when the worker dies, and starts a fresh worker for the next', async () => {
    const { client, ports } = setup();
    await client.request({ type: 'setData', splits: splits() });
    const watch = progressWatcher();
    const run = client.request({ type: 'train', settings: settings() }, watch.onProgress);
    const crashes: string[] = [];
    client.onCrash((e) => crashes.push(e.message));
    await watch.until((p) => p.type === 'batchEnd');
    ports[0].die('Out of memory');
    await expect(run).rejects.toBeInstanceOf(TrainerCrashedError);
    await expect(run).rejects.toThrow(/stopped unexpectedly \(Out of memory\)/);
    expect(crashes).toHaveLength(1);
    expect(ports[0].terminated).toBe(true);
    // Whatever the old worker held is gone: the new one has no dataset.
    await expect(client.request({ type: 'train', settings: settings() })).rejects.toThrow(/No dataset is loaded/);
    expect(ports).toHaveLength(2);
  });
});

describe('TrainerClient on the wire', () => {
  it('matches replies, progress and errors to their requests by id, in any order', async () => {
    const sent: { id: number; type: string }[] = [];
    const port: TrainerPort = {
      onmessage: null,
      onerror: null,
      onmessageerror: null,
      postMessage: (m) => sent.push({ id: m.id, type: m.request.type }),
      terminate: () => {},
    };
    const client = new TrainerClient(() => port);
    const progress: TrainProgress[] = [];
    const run = client.start({ type: 'train', settings: settings() }, (p) => progress.push(p));
    const summary = client.request({ type: 'describeModel', model: 'tutorial', imageSize: SIZE, numClasses: 2 });
    const exported = client.request({ type: 'exportModel' });
    expect(sent.map((s) => s.type)).toEqual(['train', 'describeModel', 'exportModel']);
    const [trainId, summaryId, exportId] = sent.map((s) => s.id);
    expect(new Set([trainId, summaryId, exportId]).size).toBe(3);
    const deliver = (data: unknown) => port.onmessage?.({ data } as MessageEvent);
    deliver({ type: 'error', id: exportId, message: 'Training is still running' });
    deliver({ type: 'progress', id: trainId, progress: { type: 'evaluating' } });
    deliver({ type: 'progress', id: summaryId, progress: { type: 'evaluating' } });
    const summaryReply = {
      type: 'describeModel',
      model: 'tutorial',
      imageSize: SIZE,
      summary: { layers: [], totalParams: 1, trainableParams: 1 },
    };
    deliver({ type: 'reply', id: summaryId, reply: summaryReply });
    await expect(exported).rejects.toThrow('Training is still running');
    expect(await summary).toEqual(summaryReply);
    // The run heard its own progress only, and is still pending.
    expect(progress).toEqual([{ type: 'evaluating' }]);
    expect(client.pendingCount).toBe(1);
    deliver({ type: 'reply', id: trainId, reply: { type: 'stop', stopping: true } });
    await expect(run.reply).rejects.toThrow(/answered a train request with stop/);
  });
});
