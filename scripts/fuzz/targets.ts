/**
 * What `npm run fuzz` feeds mutated bytes to: the page's own parsing code, run in Node. One entry a parser: a
 * new format is one more entry in FUZZ_TARGETS.
 */
import * as tf from '@tensorflow/tfjs';
import { BlobWriter, TextReader, Uint8ArrayReader, ZipWriter } from '@zip.js/zip.js';
import { readImageHeader } from '../../src/data/imageHeader';
import { loadDataset } from '../../src/data/loadDataset';
import { exportLayersModel } from '../../src/model/layersFormat';
import { buildModel } from '../../src/model/models';
import { readModelFile } from '../../src/ui/runs/loadModelFile';
import { buildSyntheticZip } from '../syntheticZip';
import { decodeDicomFile, dicomSeeds } from './dicomTarget';
import { mutate, mutateJson, type Seed } from './mutate';
import { pickSeed, type FuzzTarget } from './fuzzTarget';
import { imageSeeds, zipFields } from './seeds';
import { storedRunTarget } from './storedRunTarget';

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
