import { describe, expect, it } from 'vitest';
import { NO_AUGMENTATION, NO_RECIPE } from '../../core/settings';
import type { TrainSettings } from '../../core/types';
import type { FromTrainer, ToTrainer, TrainerReply, TrainProgress } from '../../worker/protocol';
import { TrainerClient, type TrainerPort } from '../../worker/trainerClient';
import { TrainingStore } from './trainingStore';

const SETTINGS: TrainSettings = {
  model: 'tutorial',
  imageSize: 32,
  epochs: 2,
  batchSize: 8,
  learningRate: 1e-3,
  learningRateSchedule: 'constant',
  intensityNormalisation: 'none',
  backend: 'cpu',
  seed: 1,
  classWeighting: 'balanced',
  patience: 3,
  augmentation: { ...NO_AUGMENTATION },
  ...NO_RECIPE,
};

/** A worker the test answers by hand: it sees each request, and posts what the test says. */
function scriptedWorker() {
  const requests: ToTrainer[] = [];
  let port: TrainerPort | null = null;
  const client = new TrainerClient(() => {
    port = {
      onmessage: null,
      onerror: null,
      onmessageerror: null,
      postMessage: (m) => requests.push(m),
      terminate: () => {},
    };
    return port;
  });
  const post = (message: FromTrainer) => port?.onmessage?.({ data: message } as MessageEvent<FromTrainer>);
  const idOf = (type: string, nth = 0) => requests.filter((r) => r.request.type === type)[nth].id;
  const progress = (id: number, p: TrainProgress) => post({ type: 'progress', id, progress: p });
  const reply = (id: number, r: TrainerReply) => post({ type: 'reply', id, reply: r });
  const fail = (id: number, message: string) => post({ type: 'error', id, message });
  return { client, requests, idOf, progress, reply, fail };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function startRun() {
  const worker = scriptedWorker();
  const store = new TrainingStore(worker.client, () => 0);
  const done = store.train(SETTINGS);
  const runId = worker.idOf('train');
  worker.progress(runId, {
    type: 'trainingStarted',
    epochs: 2,
    batchesPerEpoch: 2,
    totalBatches: 4,
    classWeights: null,
  });
  worker.progress(runId, {
    type: 'batchEnd',
    epoch: 0,
    batch: 0,
    batchesDone: 1,
    totalBatches: 4,
    loss: 0.7,
    accuracy: 0.5,
    imagesPerSecond: 10,
  });
  return { ...worker, store, done, runId };
}

describe('TrainingStore', () => {
  it('keeps a run in training when a preview fails during it, and the run still ends', async () => {
    const { store, done, runId, idOf, progress, reply, fail } = startRun();
    const preview = store.previewAugmentation({
      augmentation: SETTINGS.augmentation,
      indices: [0],
      variants: 3,
      seed: 1,
    });
    fail(idOf('previewAugmentation'), 'Out of memory while showing augmented samples.');
    await expect(preview).rejects.toThrow('Out of memory');
    expect(store.getSnapshot().phase).toBe('training');
    expect(store.getSnapshot().error).toBeNull();
    progress(runId, {
      type: 'batchEnd',
      epoch: 0,
      batch: 1,
      batchesDone: 2,
      totalBatches: 4,
      loss: 0.6,
      accuracy: 0.6,
      imagesPerSecond: 10,
    });
    expect(store.getSnapshot().batchesDone).toBe(2);
    reply(runId, {
      type: 'train',
      reason: 'completed',
      epochsDone: 2,
      bestEpoch: 1,
      restoredBest: true,
      test: null,
      model: null,
      scores: null,
    });
    await done;
    expect(store.getSnapshot().phase).toBe('done');
  });

  it('refuses an export during training as that request alone', async () => {
    const { store, idOf, fail } = startRun();
    const exported = store.exportModel();
    fail(idOf('exportModel'), 'Training is still running: wait for it to end, or press Stop, then download the model.');
    await expect(exported).rejects.toThrow(/still running/);
    expect(store.getSnapshot().phase).toBe('training');
    expect(store.getSnapshot().error).toBeNull();
  });

  it('ignores progress of a run it no longer shows, and stops the run it shows', async () => {
    const { store, requests, runId, progress, reply } = startRun();
    store.stop();
    expect(requests.at(-1)?.request).toEqual({ type: 'stop', run: runId });
    expect(store.getSnapshot().stopRequested).toBe(true);
    // A new run replaces the first in the view; the first one's late messages change nothing.
    const second = store.train(SETTINGS);
    reply(runId, {
      type: 'train',
      reason: 'stopped',
      epochsDone: 0,
      bestEpoch: null,
      restoredBest: false,
      test: null,
      model: null,
      scores: null,
    });
    progress(runId, { type: 'evaluating' });
    await tick();
    expect(store.getSnapshot().phase).toBe('starting');
    const secondId = requests.filter((r) => r.request.type === 'train')[1].id;
    reply(secondId, {
      type: 'train',
      reason: 'completed',
      epochsDone: 2,
      bestEpoch: 1,
      restoredBest: true,
      test: null,
      model: null,
      scores: null,
    });
    await second;
    expect(store.getSnapshot().phase).toBe('done');
  });

  it('ends the run with the message when the run itself fails', async () => {
    const { store, done, runId, fail } = startRun();
    fail(runId, 'The GPU stopped working for this page');
    await done;
    expect(store.getSnapshot()).toMatchObject({ phase: 'error', error: 'The GPU stopped working for this page' });
  });

  it('shows the summary of the latest request only', async () => {
    const worker = scriptedWorker();
    const store = new TrainingStore(worker.client);
    const first = store.describeModel('tutorial', 150, 2);
    const second = store.describeModel('batchnorm', 64, 2);
    const summary = (total: number) => ({ layers: [], totalParams: total, trainableParams: total });
    worker.reply(worker.idOf('describeModel', 1), {
      type: 'describeModel',
      model: 'batchnorm',
      imageSize: 64,
      summary: summary(2),
    });
    worker.reply(worker.idOf('describeModel', 0), {
      type: 'describeModel',
      model: 'tutorial',
      imageSize: 150,
      summary: summary(1),
    });
    await Promise.all([first, second]);
    expect(store.getSnapshot().modelSummary).toEqual({ model: 'batchnorm', imageSize: 64, summary: summary(2) });
  });

  it('asks the worker for the report and for images, each its own request, and leaves the view alone', async () => {
    const { store, requests, idOf, reply, fail } = startRun();
    const before = store.getSnapshot();
    const settings = {
      thresholdRule: 'youden' as const,
      targetSensitivity: 90,
      temperatureScaling: false,
      testTimeAugmentation: 'off' as const,
    };
    const report = store.evaluate(0, settings);
    expect(requests.at(-1)?.request).toEqual({ type: 'evaluate', positiveClass: 0, settings });
    fail(idOf('evaluate'), 'There is no evaluated model: train one first.');
    await expect(report).rejects.toThrow('train one first');
    const images = store.evaluatedImages([2, 5]);
    reply(idOf('evaluatedImages'), {
      type: 'evaluatedImages',
      size: 1,
      indices: Uint32Array.from([2, 5]),
      pixels: Uint8Array.from([7, 9]),
    });
    expect(Array.from((await images).pixels)).toEqual([7, 9]);
    expect(store.getSnapshot()).toBe(before);
  });

  it('tells subscribers of every change', () => {
    const worker = scriptedWorker();
    const store = new TrainingStore(worker.client);
    let calls = 0;
    const unsubscribe = store.subscribe(() => calls++);
    void store.train(SETTINGS);
    expect(calls).toBe(1);
    unsubscribe();
    store.stop();
    expect(calls).toBe(1);
  });

  it('tells subscribers of batches at most every 200 ms, the last one too, and of anything else at once', async () => {
    const worker = scriptedWorker();
    let clock = 1000;
    const store = new TrainingStore(worker.client, () => clock, 200);
    const seen: number[] = [];
    store.subscribe(() => seen.push(store.getSnapshot().batchesDone));
    void store.train(SETTINGS);
    const runId = worker.idOf('train');
    worker.progress(runId, {
      type: 'trainingStarted',
      epochs: 2,
      batchesPerEpoch: 50,
      totalBatches: 100,
      classWeights: null,
    });
    const batch = (done: number) =>
      worker.progress(runId, {
        type: 'batchEnd',
        epoch: 0,
        batch: done - 1,
        batchesDone: done,
        totalBatches: 100,
        loss: 0.7,
        accuracy: 0.5,
        imagesPerSecond: 10,
      });
    for (let done = 1; done <= 10; done++) {
      clock += 30; // a batch every 30 ms
      batch(done);
      expect(store.getSnapshot().batchesDone).toBe(done); // the snapshot itself is always current
    }
    // The start and trainingStarted at once; batch 7 is the first 200 ms after trainingStarted.
    expect(seen).toEqual([0, 0, 7]);
    // The last batches reach the page once the wait is over: the store's own timer tells the subscribers.
    await new Promise<void>((resolve) => {
      const unsubscribe = store.subscribe(() => {
        unsubscribe();
        resolve();
      });
    });
    expect(seen).toEqual([0, 0, 7, 10]);
    store.pause(true);
    expect(seen).toEqual([0, 0, 7, 10, 10]); // not a batch: at once
    store.dispose();
  });
});
