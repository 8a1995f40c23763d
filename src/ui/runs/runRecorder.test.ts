import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { INPUT_DECODING } from '../../core/inputDecoding';
import { DEFAULT_SETTINGS } from '../../core/settings';
import { RunsDb } from '../../storage/runsDb';
import type { RunEvent, TrainingStore } from '../training/trainingStore';
import { initialTrainingView, type TrainingView } from '../training/trainingState';
import { RunRecorder } from './runRecorder';

/** A store that only passes on run events the test sends. */
function fakeStore() {
  let listener: ((e: RunEvent) => void) | null = null;
  const store = {
    onRunEvent: (l: (e: RunEvent) => void) => ((listener = l), () => (listener = null)),
  } as unknown as TrainingStore;
  return { store, send: (e: RunEvent) => listener?.(e) };
}

const files = (n: number) => ({ modelJson: `{"n":${n}}`, weights: new Float32Array([n]).buffer });
const epochView = (epochsDone: number, bestEpoch: number): TrainingView => ({
  ...initialTrainingView,
  epochs: 3,
  batchesPerEpoch: 2,
  epochsDone,
  bestEpoch,
  epochPoints: Array.from({ length: epochsDone }, (_, e) => ({
    epoch: e,
    x: e + 1,
    loss: 1,
    accuracy: 0.5,
    valLoss: e === bestEpoch ? 0.4 : 0.6,
    valAccuracy: 0.7,
    bestEpoch,
    tensors: 10,
  })),
});

describe('the run recorder', () => {
  it('saves the record and checkpoint every epoch, the best epoch apart, and the results and kept model at the end', async () => {
    const db = await RunsDb.open('recorder-1');
    const { store, send } = fakeStore();
    const problems: string[] = [];
    const recorder = new RunRecorder(
      store,
      db,
      (m) => problems.push(m),
      () => {},
    );
    recorder.begin({
      datasetName: 'chest_xray.zip',
      classNames: ['NORMAL', 'PNEUMONIA'],
      settings: DEFAULT_SETTINGS,
      evaluatedOn: 'test',
    });
    const id = recorder.run!.id;
    send({ type: 'started', settings: { ...DEFAULT_SETTINGS }, resumed: false });
    send({ type: 'epoch', epoch: 0, checkpoint: files(0), view: epochView(1, 0) });
    send({ type: 'epoch', epoch: 1, checkpoint: files(1), view: epochView(2, 0) });
    await recorder.settled();
    // Mid-run (a crash now keeps both): status training, the last checkpoint, the best epoch's files.
    let saved = await db.get(id);
    expect(saved?.status).toBe('training');
    expect(saved?.history.epochsDone).toBe(2);
    expect(saved?.models.sort()).toEqual(['best', 'checkpoint']);
    expect(JSON.parse((await db.getModel(id, 'checkpoint'))!.modelJson)).toEqual({ n: 1 });
    expect(JSON.parse((await db.getModel(id, 'best'))!.modelJson)).toEqual({ n: 0 });
    expect(saved?.figures.bestValLoss).toBe(0.4);

    const test = {
      loss: 0.3,
      accuracy: 0.75,
      scores: new Float32Array([0.2, 0.9, 0.6, 0.1]),
      labels: new Uint8Array([0, 1, 1, 0]),
      numClasses: 2,
      gallery: { indices: new Uint32Array(0), pixels: new Uint8Array(0), size: 2 },
    };
    send({
      type: 'ended',
      reply: {
        reason: 'completed',
        epochsDone: 2,
        bestEpoch: 0,
        restoredBest: true,
        test,
        model: files(9),
        scores: null,
      },
      view: { ...epochView(2, 0), test },
    });
    await recorder.settled();
    saved = await db.get(id);
    expect(saved?.status).toBe('done');
    // A run begun now records how its films were decoded, so a later version can tell it from an older run's.
    expect(saved?.inputDecoding).toBe(INPUT_DECODING);
    expect(saved?.figures).toEqual({ bestValLoss: 0.4, testAccuracy: 0.75, testAuc: 1 });
    expect(JSON.parse((await recorder.modelFiles('model'))!.modelJson)).toEqual({ n: 9 });
    expect(problems).toEqual([]);
    recorder.dispose();
    db.close();
  });

  it('keeps the run in memory when storage fails, and says why', async () => {
    const db = await RunsDb.open('recorder-2');
    const { store, send } = fakeStore();
    const problems: string[] = [];
    const failing = Object.assign(Object.create(Object.getPrototypeOf(db) as object) as RunsDb, db, {
      put: () => Promise.reject(new Error('The disk is full')),
      putWithModels: () => Promise.reject(new Error('The disk is full')),
    });
    const recorder = new RunRecorder(
      store,
      failing,
      (m) => problems.push(m),
      () => {},
    );
    recorder.begin({ datasetName: 'x', classNames: ['a', 'b'], settings: DEFAULT_SETTINGS, evaluatedOn: 'validation' });
    send({ type: 'epoch', epoch: 0, checkpoint: files(0), view: epochView(1, 0) });
    await recorder.settled();
    expect(problems).toEqual(['The disk is full']);
    expect(JSON.parse((await recorder.modelFiles('checkpoint'))!.modelJson)).toEqual({ n: 0 });
    db.close();
  });
});
