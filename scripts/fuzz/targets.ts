/**
 * What `npm run fuzz` feeds mutated bytes to: the page's own parsing code, run in Node. One entry a parser: a
 * new format is one more entry in FUZZ_TARGETS.
 */
import * as tf from '@tensorflow/tfjs';
import { BlobWriter, TextReader, Uint8ArrayReader, ZipWriter } from '@zip.js/zip.js';
import { deserialize, serialize } from 'node:v8';
import { DEFAULT_SETTINGS } from '../../src/core/settings';
import { readImageHeader } from '../../src/data/imageHeader';
import { loadDataset } from '../../src/data/loadDataset';
import { exportLayersModel } from '../../src/model/layersFormat';
import { buildModel } from '../../src/model/models';
import { savedRunProblem } from '../../src/storage/runRecord';
import type { SavedRun } from '../../src/storage/runsDb';
import { readModelFile } from '../../src/ui/runs/loadModelFile';
import { buildSyntheticZip } from '../syntheticZip';
import { decodeDicomFile, dicomSeeds } from './dicomTarget';
import { mutate, mutateJson, type MutationKind, type Seed } from './mutate';
import { imageSeeds, zipFields } from './seeds';

export interface FuzzCase {
  input: unknown;
  description: string;
}

/** A parser under fuzzing, once its seeds are made. */
export interface PreparedTarget {
  mutant(kind: MutationKind, rng: () => number): FuzzCase;
  /** Runs the page's code on a case; resolves the messages the page would show (skips, warnings), or throws a refusal. */
  run(input: unknown): Promise<string[]>;
}

export interface FuzzTarget {
  name: string;
  prepare(): Promise<PreparedTarget>;
}

const pickSeed = <T>(seeds: T[], rng: () => number): T => seeds[Math.floor(rng() * seeds.length)];

function byteTarget(
  name: string,
  seeds: () => Promise<Seed[]>,
  run: (bytes: Uint8Array) => Promise<string[]>,
): FuzzTarget {
  return {
    name,
    prepare: async () => {
      const made = await seeds();
      return {
        mutant: (kind, rng) => {
          const m = mutate(pickSeed(made, rng), kind, rng);
          return { input: m.bytes, description: m.description };
        },
        run: (input) => run(input as Uint8Array),
      };
    },
  };
}

/** The dataset pipeline as the page runs it (listing, classifying, reading and inflating entries, skipping), with the
 * image header check standing in for the browser's decoder, which Node does not have. */
async function loadZip(bytes: Uint8Array): Promise<string[]> {
  const data = await loadDataset(new Blob([bytes as Uint8Array<ArrayBuffer>]), {
    size: 8,
    concurrency: 4,
    decode: async (blob, size) => {
      const { source } = readImageHeader(new Uint8Array(await blob.arrayBuffer()), blob.type);
      return {
        pixels: new Uint8Array(size * size),
        sourceWidth: source?.width ?? 0,
        sourceHeight: source?.height ?? 0,
      };
    },
  });
  return data.skipped.map((s) => s.detail).filter((d): d is string => Boolean(d));
}

async function datasetZips(part: 'central' | 'local'): Promise<Seed[]> {
  const zips = await Promise.all([
    buildSyntheticZip({
      seed: 1,
      perClass: { train: 4, val: 2, test: 1 },
      imageSize: 8,
      formats: { train: 'png', val: 'jpeg', test: 'png' },
    }),
    buildSyntheticZip({ seed: 2, perClass: { train: 3, val: 0, test: 0 }, imageSize: 8, junk: true }),
  ]);
  return zips.map(({ zip }, i) => ({ label: `dataset zip ${i}`, bytes: zip, fields: zipFields(zip, part) }));
}

async function imageHeader(bytes: Uint8Array, type: string): Promise<string[]> {
  readImageHeader(bytes, type);
  return [];
}

const IMAGE_TYPES = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  bmp: 'image/bmp',
  gif: 'image/gif',
  webp: 'image/webp',
} as const;

interface ModelSeed {
  modelJson: string;
  weights: Uint8Array;
  metadata: string;
}

let modelSeed: Promise<ModelSeed> | null = null;

/** A model of the app (the tutorial network at 32 px, untrained), as Download model writes it. */
function appModel(): Promise<ModelSeed> {
  modelSeed ??= (async () => {
    await tf.setBackend('cpu');
    const model = buildModel('tutorial', { imageSize: 32, numClasses: 2, learningRate: 0.001, seed: 1 });
    const { modelJson, weights } = await exportLayersModel(model);
    model.dispose();
    const metadata = JSON.stringify({
      classNames: ['NORMAL', 'PNEUMONIA'],
      imageSize: 32,
      model: 'tutorial',
      threshold: 0.4,
      thresholdClass: 'PNEUMONIA',
      trainedEpochs: 3,
    });
    return { modelJson, weights: new Uint8Array(weights), metadata };
  })();
  return modelSeed;
}

async function loadModel(files: File[]): Promise<string[]> {
  return (await readModelFile(files)).warnings;
}

function jsonTarget(name: string, which: 'modelJson' | 'metadata'): FuzzTarget {
  return {
    name,
    prepare: async () => {
      const seed = await appModel();
      return {
        mutant: (kind, rng) => {
          const m = mutateJson(name, seed[which], kind, rng);
          return { input: m.bytes, description: m.description };
        },
        run: (input) => {
          const bytes = input as Uint8Array<ArrayBuffer>;
          const modelJson = which === 'modelJson' ? bytes : seed.modelJson;
          const metadata = which === 'metadata' ? bytes : seed.metadata;
          return loadModel([
            new File([modelJson], 'model.json'),
            new File([seed.weights as Uint8Array<ArrayBuffer>], 'weights.bin'),
            new File([metadata], 'metadata.json'),
          ]);
        },
      };
    },
  };
}

async function modelZip(): Promise<Seed[]> {
  const seed = await appModel();
  const writer = new ZipWriter(new BlobWriter('application/zip'), { useWebWorkers: false });
  await writer.add('model.json', new TextReader(seed.modelJson));
  await writer.add('weights.bin', new Uint8ArrayReader(seed.weights));
  await writer.add('metadata.json', new TextReader(seed.metadata));
  const bytes = new Uint8Array(await (await writer.close()).arrayBuffer());
  return [{ label: 'model zip', bytes, fields: [...zipFields(bytes, 'central'), ...zipFields(bytes, 'local')] }];
}

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

const storedRunTarget: FuzzTarget = {
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

/** Every parser the page runs on outside bytes. Add one line for a new one. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  byteTarget('zip central directory', () => datasetZips('central'), loadZip),
  byteTarget('zip local headers', () => datasetZips('local'), loadZip),
  ...(Object.keys(IMAGE_TYPES) as (keyof typeof IMAGE_TYPES)[]).map((format) =>
    byteTarget(
      format,
      async () => imageSeeds(format),
      (bytes) => imageHeader(bytes, IMAGE_TYPES[format]),
    ),
  ),
  jsonTarget('model.json', 'modelJson'),
  jsonTarget('metadata.json', 'metadata'),
  byteTarget('DICOM', dicomSeeds, decodeDicomFile),
  byteTarget('model zip', modelZip, (bytes) => loadModel([new File([bytes as Uint8Array<ArrayBuffer>], 'model.zip')])),
  storedRunTarget,
];
