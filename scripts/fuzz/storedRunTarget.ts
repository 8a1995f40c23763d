/**
 * Stored runs for `npm run fuzz`: the records IndexedDB keeps (a finished run, a loaded model's run), with one field
 * set to 0, a maximum or a lie, or their structured-clone bytes mutated, through the page's own savedRunProblem.
 */
import { deserialize, serialize } from 'node:v8';
import { DEFAULT_SETTINGS } from '../../src/core/settings';
import { savedRunProblem } from '../../src/storage/runRecord';
import type { SavedRun } from '../../src/storage/runsDb';
import { pickSeed, type FuzzCase, type FuzzTarget } from './fuzzTarget';
import { mutate, type MutationKind } from './mutate';

function storedRuns(): SavedRun[] {
  const base: SavedRun = {
    id: '2026-01-01T00:00:00.000Z-abc',
    name: 'tutorial 64 px',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:10:00.000Z',
    datasetName: 'chest_xray.zip',
    classNames: ['NORMAL', 'PNEUMONIA'],
    settings: { ...DEFAULT_SETTINGS },
    evaluatedOn: 'test',
    status: 'done',
    history: {
      epochs: 2,
      batchesPerEpoch: 2,
      batchPoints: [
        { x: 0.5, loss: 0.7, accuracy: 0.5 },
        { x: 1, loss: 0.6, accuracy: 0.6 },
      ],
      epochPoints: [
        { x: 1, epoch: 0, loss: 0.6, accuracy: 0.6, valLoss: 0.5, valAccuracy: 0.7, bestEpoch: 0, tensors: 40 },
      ],
      epochsDone: 1,
      classWeights: [1.2, 0.8],
      bestEpoch: 0,
      outcome: { reason: 'completed', epochsDone: 1, bestEpoch: 0, restoredBest: true },
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
      validation: {
        scores: new Float32Array([0.4, 0.6]),
        labels: new Uint8Array([0, 1]),
        groups: new Uint32Array([7, 8]),
      },
      test: null,
    },
    figures: { bestValLoss: 0.5, testAccuracy: 0.9, testAuc: 1 },
    models: ['best', 'model'],
  };
  return [
    base,
    {
      ...base,
      status: 'loaded',
      test: null,
      scores: null,
      metadata: {
        model: 'tutorial',
        classNames: ['a', 'b'],
        imageSize: 32,
        channels: 1,
        normalisation: 'grey',
        output: 'sigmoid',
        positiveClass: 'b',
        threshold: 0.5,
        thresholdClass: 'b',
        thresholdRule: 'fixed',
        resize: 'squashed',
        trainedEpochs: 1,
        backend: 'wasm',
        createdAt: '',
      },
    },
  ];
}

/** A stored record with one field (a number, a length of a list, a typed array) set to 0, a maximum or a lie. */
function mutateRecord(record: SavedRun, kind: MutationKind, rng: () => number): FuzzCase {
  const copy = structuredClone(record) as unknown as Record<string, unknown>;
  const leaves: { parent: Record<string, unknown> | unknown[]; key: string | number; path: string }[] = [];
  const walk = (node: unknown, path: string) => {
    if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) return;
    for (const [key, value] of Object.entries(node)) {
      leaves.push({ parent: node as Record<string, unknown>, key, path: `${path}.${key}` });
      walk(value, `${path}.${key}`);
    }
  };
  walk(copy, 'run');
  const leaf = pickSeed(leaves, rng);
  const old = (leaf.parent as Record<string | number, unknown>)[leaf.key];
  const replacements: Record<string, unknown[]> = {
    'field 0': [0, '', [], new Float32Array(0), null],
    'field max': [Number.MAX_SAFE_INTEGER, 2 ** 32 - 1, Infinity, 'x'.repeat(100_000), new Uint8Array(1_000_000)],
    'field lie': [-1, 1.5, NaN, '1', true, {}, [1, 2, 3], new Float32Array(3), undefined],
  };
  const choices = replacements[kind];
  const value = choices[Math.floor(rng() * choices.length)];
  (leaf.parent as Record<string | number, unknown>)[leaf.key] = value;
  const shown = (v: unknown) =>
    ArrayBuffer.isView(v)
      ? `${v.constructor.name}(${(v as Uint8Array).length})`
      : typeof v === 'string' && v.length > 20
        ? `string(${v.length})`
        : String(v);
  return { input: copy, description: `${leaf.path}: ${shown(old)} -> ${shown(value)}` };
}

export const storedRunTarget: FuzzTarget = {
  name: 'stored run record',
  prepare: async () => {
    const records = storedRuns();
    return {
      mutant: (kind, rng) => {
        const record = pickSeed(records, rng);
        if (kind.startsWith('field')) return mutateRecord(record, kind, rng);
        // The bytes of the structured clone IndexedDB keeps, mutated; what the browser cannot read back it refuses itself.
        const m = mutate({ label: 'stored run', bytes: new Uint8Array(serialize(record)), fields: [] }, kind, rng);
        let input: unknown;
        try {
          input = deserialize(m.bytes);
        } catch {
          input = undefined;
        }
        return { input, description: m.description };
      },
      run: async (input) => {
        const problem = savedRunProblem(input);
        return problem ? [`1 saved run could not be read and was skipped: ${problem}.`] : [];
      },
    };
  },
};
