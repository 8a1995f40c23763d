import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { RunsDb, type SavedRun } from './runsDb';
import { INPUT_DECODING } from '../core/inputDecoding';
import { DEFAULT_SETTINGS } from '../core/settings';

let dbs: RunsDb[] = [];
let n = 0;
const open = async () => {
  const db = await RunsDb.open(`test-${n++}`);
  dbs.push(db);
  return db;
};
afterEach(() => {
  dbs.forEach((db) => db.close());
  dbs = [];
});

function run(id: string, updatedAt: string): SavedRun {
  return {
    id,
    name: `run ${id}`,
    createdAt: updatedAt,
    updatedAt,
    datasetName: 'demo',
    classNames: ['NORMAL', 'PNEUMONIA'],
    settings: DEFAULT_SETTINGS,
    evaluatedOn: 'test',
    status: 'done',
    history: {
      epochs: 2,
      batchesPerEpoch: 3,
      batchPoints: [{ x: 1 / 3, loss: 0.7, accuracy: 0.5 }],
      epochPoints: [],
      epochsDone: 2,
      classWeights: null,
      bestEpoch: 1,
      outcome: null,
    },
    test: {
      loss: 0.3,
      accuracy: 0.9,
      scores: new Float32Array([0.2, 0.8]),
      labels: new Uint8Array([0, 1]),
      numClasses: 2,
      gallery: { indices: new Uint32Array([1]), pixels: new Uint8Array(4), size: 2 },
    },
    scores: {
      validation: { scores: new Float32Array([0.4]), labels: new Uint8Array([1]), groups: new Uint32Array([7]) },
      test: null,
    },
    figures: { bestValLoss: 0.3, testAccuracy: 0.9, testAuc: 1 },
    models: [],
  };
}

describe('saved runs', () => {
  it('keeps runs with their typed arrays, latest first, and renames and deletes them', async () => {
    const db = await open();
    await db.put(run('a', '2026-01-01T00:00:00Z'));
    await db.put(run('b', '2026-01-02T00:00:00Z'));
    const list = await db.list();
    expect(list.map((r) => r.id)).toEqual(['b', 'a']);
    expect(list[0].test?.scores).toEqual(new Float32Array([0.2, 0.8]));
    expect(list[0].scores?.validation.groups).toEqual(new Uint32Array([7]));
    expect((await db.rename('a', 'first'))?.name).toBe('first');
    expect(await db.rename('nope', 'x')).toBeNull();
    await db.delete('b');
    expect((await db.list()).map((r) => r.name)).toEqual(['first']);
  });

  it('keeps model files apart from the record, notes which are there, and deletes them with the run', async () => {
    const db = await open();
    await db.put(run('a', '2026-01-01T00:00:00Z'));
    const files = { modelJson: '{"x":1}', weights: new Float32Array([1, 2, 3]).buffer };
    await db.putModel('a', 'checkpoint', files);
    await db.putModel('a', 'model', files);
    await db.putModel('a', 'model', files);
    expect((await db.get('a'))?.models).toEqual(['checkpoint', 'model']);
    const back = await db.getModel('a', 'checkpoint');
    expect(new Float32Array(back!.weights)).toEqual(new Float32Array([1, 2, 3]));
    await db.delete('a');
    expect(await db.getModel('a', 'checkpoint')).toBeUndefined();
  });

  it('saves a record with its checkpoint and snapshots in one go, and deletes the snapshots with the run', async () => {
    const db = await open();
    const files = { modelJson: '{"x":1}', weights: new Float32Array([1, 2, 3]).buffer };
    const snapshots = { modelJson: '{"s":1}', weights: new Float32Array([4]).buffer };
    await db.putWithModels(run('a', '2026-01-01T00:00:00Z'), [
      ['checkpoint', files],
      ['snapshots', snapshots],
    ]);
    expect((await db.get('a'))?.models).toEqual(['checkpoint', 'snapshots']);
    expect(new Float32Array((await db.getModel('a', 'snapshots'))!.weights)).toEqual(new Float32Array([4]));
    await db.delete('a');
    expect(await db.getModel('a', 'snapshots')).toBeUndefined();
  });

  it('skips, with a note, records that were changed outside the app or written by an older version', async () => {
    const name = `test-${n++}`;
    const db = await RunsDb.open(name);
    dbs.push(db);
    await db.put(run('good', '2026-01-03T00:00:00Z'));
    const raw = await openDB(name);
    const older: Record<string, unknown> = { ...run('old', '2026-01-01T00:00:00Z') };
    delete older.figures;
    const tampered = {
      ...run('bad', '2026-01-02T00:00:00Z'),
      history: { ...run('x', '').history, epochPoints: 'lots' },
    };
    const lying = { ...run('lie', '2026-01-04T00:00:00Z'), test: { ...run('x', '').test!, numClasses: 3 } };
    const badSettings = { ...run('set', '2026-01-05T00:00:00Z'), settings: { ...DEFAULT_SETTINGS, imageSize: 1e9 } };
    for (const record of [older, tampered, lying, badSettings, { id: 'junk', updatedAt: '2026-01-06' }])
      await raw.put('runs', record);
    raw.close();
    const { runs, skipped } = await db.listChecked();
    expect(runs.map((r) => r.id)).toEqual(['good']);
    expect(skipped).toHaveLength(5);
    // A diverged run (NaN losses) is still a run.
    const diverged = run('nan', '2026-01-07T00:00:00Z');
    diverged.history.batchPoints = [{ x: 1, loss: NaN, accuracy: 0.5 }];
    diverged.figures.bestValLoss = NaN;
    await db.put(diverged);
    expect((await db.list()).map((r) => r.id)).toEqual(['nan', 'good']);
    expect(skipped.join('\n')).toMatch(/“run old” \(figures: /);
    expect(skipped.join('\n')).toMatch(/“run bad” \(history\.epochPoints: /);
    expect(skipped.join('\n')).toMatch(/“run lie” \(test: scores and labels do not match\)/);
    expect(skipped.join('\n')).toMatch(/“run set” \(settings: a setting is missing or out of range\)/);
    expect(skipped.join('\n')).toMatch(/a saved run \(/);
    expect(await db.get('bad')).toBeUndefined();
    // Saving a model for a damaged record still works (the record is left alone).
    await db.putModel('bad', 'model', { modelJson: '{}', weights: new ArrayBuffer(4) });
  });

  it('reads a run saved before Intensity normalisation existed as trained without it (none)', async () => {
    const name = `test-${n++}`;
    const db = await RunsDb.open(name);
    dbs.push(db);
    const raw = await openDB(name);
    const before = run('before', '2026-01-01T00:00:00Z');
    const settings: Partial<typeof before.settings> = { ...before.settings, intensityNormalisation: undefined };
    delete settings.intensityNormalisation;
    await raw.put('runs', { ...before, settings });
    await raw.put('runs', {
      ...run('odd', '2026-01-02T00:00:00Z'),
      settings: { ...before.settings, intensityNormalisation: 'clahe' },
    });
    raw.close();
    const { runs, skipped } = await db.listChecked();
    expect(runs.map((r) => [r.id, r.settings.intensityNormalisation])).toEqual([['before', 'none']]);
    expect(skipped.join('\n')).toMatch(/“run odd” \(settings: a setting is missing or out of range\)/);
    expect((await db.get('before'))?.settings.intensityNormalisation).toBe('none');
    await db.putModel('before', 'model', { modelJson: '{}', weights: new ArrayBuffer(4) });
    expect((await db.get('before'))?.models).toEqual([...before.models, 'model']);
  });

  it("keeps how a run's films were decoded, tells an older run (no marker) apart, and skips a forged marker", async () => {
    const name = `test-${n++}`;
    const db = await RunsDb.open(name);
    dbs.push(db);
    await db.put({ ...run('now', '2026-12-06T00:00:00Z'), inputDecoding: INPUT_DECODING });
    await db.put(run('older', '2026-12-01T00:00:00Z'));
    const raw = await openDB(name);
    await raw.put('runs', { ...run('forged', '2026-12-02T00:00:00Z'), inputDecoding: '<b>later</b>' });
    raw.close();
    const { runs, skipped } = await db.listChecked();
    expect(runs.map((r) => [r.id, r.inputDecoding])).toEqual([
      ['now', INPUT_DECODING],
      ['older', undefined],
    ]);
    expect(skipped.join('\n')).toMatch(/“run forged” \(inputDecoding: /);
  });

  it('gives back no model files that are not what the app stores', async () => {
    const name = `test-${n++}`;
    const db = await RunsDb.open(name);
    dbs.push(db);
    const raw = await openDB(name);
    await raw.put('models', { modelJson: 42, weights: new ArrayBuffer(4) }, 'a:model');
    await raw.put('models', { modelJson: '{}', weights: 'not bytes' }, 'a:best');
    raw.close();
    expect(await db.getModel('a', 'model')).toBeUndefined();
    expect(await db.getModel('a', 'best')).toBeUndefined();
  });
});
