/**
 * The PyTorch bundle end to end, with the machine's PyTorch (/usr/bin/python3 with torch, numpy and Pillow; skipped
 * without them): torchrun trains on a small generated dataset and writes a model.zip that TensorFlow.js loads and
 * that predicts as PyTorch does; models built and exported by the app load in PyTorch and predict as tfjs does; the
 * augmentation samples as tf.image.transform does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TextReader, Uint8ArrayReader, Uint8ArrayWriter, ZipReader, ZipWriter } from '@zip.js/zip.js';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import { framingParams } from '../core/framing';
import { INPUT_DECODING, resizeText } from '../core/inputDecoding';
import { DEFAULT_SETTINGS } from '../core/settings';
import { OOD_LAYER_CHOICES } from '../core/settingChoices';
import type {
  AugmentationSettings,
  IntensityNormalisation,
  ModelMetadata,
  ModelName,
  FeatureEnsembleOodDetector,
  OodDetector,
  OodFeatureLayer,
  OodJudgement,
  OodLayerChoice,
  OodPooling,
  PenultimateOodDetector,
  Settings,
  SplitName,
} from '../core/types';
import { columnsOf, featureEnsembleScores, fitFeatureEnsembleDetector } from '../eval/featureEnsemble';
import { unlikeReasonOf, type UnlikeReason } from '../eval/oodReasons';
import { countUnlike, fitOodDetector, judge, oodFeatureLayers } from '../eval/outOfDistribution';
import { checkOodDetector } from '../eval/oodDetectorCheck';
// Tests of export/ may build real models (src/layering.test.ts: testImports), to check the converter against them.
import { disposeCnn } from '../model/cnn';
import {
  featuresAndOutputs,
  layerSizeOf as pageLayerSizeOf,
  OOD_LAYERS,
  OOD_LAYERS_WITH_DETAIL,
} from '../model/features';
import { DETAIL_EPSILON, DETAIL_OCTAVES, MIN_DETAIL_SIZE } from '../core/imageDetailSpec';
import { IMAGE_DETAIL_LAYER } from '../core/types';
import { imageDetail } from '../model/imageDetail';
import { exportLayersModel } from '../model/layersFormat';
import { buildModel } from '../model/models';
import { syntheticSet } from '../model/testImages.testutil';
import { learningRateAt } from '../model/learningRate';
import { weightedTrainStep } from '../model/weightedStep';
import { manifestCsv, pytorchBundleFiles, type ManifestRow } from './pytorchBundle';

const PYTHON = '/usr/bin/python3';
const TORCHRUN = '/usr/bin/torchrun';
const hasTorch =
  existsSync(PYTHON) &&
  existsSync(TORCHRUN) &&
  spawnSync(PYTHON, ['-c', 'import torch, numpy, PIL'], { stdio: 'ignore' }).status === 0;

const SIZE = 40;
/** The page's feature-ensemble layers, as train.py writes them: (name, pooling); `ood` layers. */
const PAGE_OOD_LAYERS = OOD_LAYERS.map((l) => [l.name, l.pooling] as const);
/** The same and, last, the input's detail: what the page and train.py fit by default (`ood` detail). */
const PAGE_DETAIL_OOD_LAYERS = OOD_LAYERS_WITH_DETAIL.map((l) => [l.name, l.pooling] as const);
const CLASSES = ['NORMAL', 'PNEUMONIA'];
const TOLERANCE = 1e-4;
// One thread a process: the machine's cores are shared.
const ENV = { ...process.env, OMP_NUM_THREADS: '1' };

let root = '';
let dataDir = '';
let bundleDir = '';
const rows: ManifestRow[] = [];
/** What each image file should decode to where that is exact (40 px PNGs): the grey pixels. */
const exactPixels = new Map<string, Uint8Array>();

function run(command: string, args: string[], cwd: string, timeout = 110_000): string {
  const result = spawnSync(command, args, { cwd, env: ENV, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout?.slice(-3000)}\n${result.stderr?.slice(-3000)}`,
    );
  }
  return result.stdout;
}

interface TorchPrediction {
  path: string;
  probabilities: number[];
  pixels: number[];
  oodDistance?: number;
  unlikeTrainingData?: boolean;
  /** Why a flagged image is, by a feature ensemble (ood_reason: the page's UnlikeReason). */
  unlikeWhy?: UnlikeReason;
}

/**
 * The page's side of the feature ensemble, computed here with tfjs itself (each layer's output through a sub-model
 * in inference mode, a 4-D map averaged over its rows and columns; the pseudo-layer `image`, the page's imageDetail
 * of the input): rows of `layers`' features side by side.
 */
function tfjsOodRows(
  model: tf.LayersModel,
  pixels: number[][],
  size: number,
  layers: readonly { name: string; pooling: OodPooling }[],
): Float32Array {
  const read = layers.filter((l) => l.pooling !== 'detail-octaves');
  const sub = read.length
    ? tf.model({ inputs: model.inputs, outputs: read.map((l) => model.getLayer(l.name).output as tf.SymbolicTensor) })
    : null;
  const rows = tf.tidy(() => {
    const xs = tf.mul(tf.tensor4d(pixels.flat(), [pixels.length, size, size, 1], 'float32'), 1 / 255);
    const outputs = sub ? ([sub.predict(xs)].flat() as tf.Tensor[]) : [];
    return tf.concat(
      layers.map((layer) => {
        if (layer.pooling === 'detail-octaves') return imageDetail(xs);
        const out = outputs[read.indexOf(layer)];
        return layer.pooling === 'spatial-mean' ? tf.mean(out, [1, 2]) : out;
      }),
      1,
    );
  });
  const values = rows.dataSync() as Float32Array;
  rows.dispose();
  return values;
}

/**
 * The layers of `names` as OodFeatureLayers of this tfjs model: a 4-D map's channels, or a 2-D output's width; the
 * input's detail as wide as the page says (model/features.ts' layerSizeOf).
 */
function tfjsOodLayers(model: tf.LayersModel, layers: readonly (readonly [string, OodPooling])[]): OodFeatureLayer[] {
  return layers.map(([name, pooling]) => {
    if (pooling === 'detail-octaves') return { name, pooling, size: pageLayerSizeOf(model, name, pooling)! };
    const shape = model.getLayer(name).outputShape as number[];
    return { name, pooling, size: shape[shape.length - 1] };
  });
}

/**
 * What checkOodDetector needs of a model: its layers' widths after pooling, read from the tfjs model (the input's
 * detail, which no layer gives, as the page reads it).
 */
function layerSizeOf(model: tf.LayersModel): (name: string, pooling: OodPooling) => number | null {
  return (name, pooling) => {
    if (pooling === 'detail-octaves') return pageLayerSizeOf(model, name, pooling);
    const layer = model.layers.find((l) => l.name === name);
    const shape = layer?.outputShape as number[] | undefined;
    if (!shape) return null;
    if (pooling === 'spatial-mean') return shape.length === 4 ? shape[3] : null;
    return shape.length === 2 ? shape[1] : null;
  };
}

/** Largest relative difference of the scores PyTorch gave and the page's for the same pixels, either method. */
function distanceDifference(model: tf.LayersModel, detector: OodDetector, torch: TorchPrediction[]): number {
  const page = judge(
    detector,
    tfjsOodRows(
      model,
      torch.map((t) => t.pixels),
      SIZE,
      oodFeatureLayers(detector),
    ),
  );
  return Math.max(
    ...torch.map((t, i) => Math.abs(t.oodDistance! - page.distances[i]) / Math.max(1, page.distances[i])),
  );
}

function torchPredict(modelZip: string, images: string[]): TorchPrediction[] {
  const out = run(PYTHON, ['train.py', '--predict', modelZip, '--with-pixels', '--images', ...images], bundleDir);
  return (JSON.parse(out) as { images: TorchPrediction[] }).images;
}

/** Python: the bundle's modules the tests call (train.py beside them is the entry point: options and main). */
const IMPORT_MODULES =
  'from xray_trainer import augmentation, ensemble, loss, model_zip, network, ood, optimizer, schedule, tfjs_format';

/** Runs Python `lines` with json, sys, numpy (np), torch and the bundle's modules imported; its output. */
function trainPy(lines: string[], ...args: string[]): string {
  const head = [
    'import json, sys',
    'import numpy as np',
    'import torch',
    `sys.path.insert(0, ${JSON.stringify(bundleDir)})`,
  ];
  return run(PYTHON, ['-c', [...head, IMPORT_MODULES, ...lines].join('\n'), ...args], bundleDir);
}

/** Python lines: `model`, the model.zip of argv[1]; `x`, its input from the grey pixels (0..255, JSON) of argv[2]. */
const MODEL_AND_PIXELS = () => [
  'model, _ = model_zip.load_app_model(sys.argv[1])',
  `x = torch.tensor(json.load(open(sys.argv[2])), dtype=torch.float32).view(-1, 1, ${SIZE}, ${SIZE}) / 255`,
];

/** train.py's OOD_LAYERS, as its Python says. */
function torchOodLayers(): [string, OodPooling][] {
  return JSON.parse(trainPy(['print(json.dumps(ood.OOD_LAYERS))'])) as [string, OodPooling][];
}

/**
 * PyTorch's rows of `layers`' features (OOD_LAYERS unless told; pooled and side by side, `image` the input's detail)
 * for grey pixels, from a model.zip.
 */
function torchOodRows(
  modelZip: string,
  pixels: number[][],
  layers: readonly (readonly [string, OodPooling])[] = PAGE_OOD_LAYERS,
): Float32Array {
  const inputs = join(root, 'ood-rows-pixels.json');
  const layersFile = join(root, 'ood-rows-layers.json');
  writeFileSync(inputs, JSON.stringify(pixels));
  writeFileSync(layersFile, JSON.stringify(layers));
  const script = [
    ...MODEL_AND_PIXELS(),
    'with torch.no_grad():',
    '    features, _ = ensemble.scorer(model)(x)',
    'print(json.dumps(ood.ood_rows(features, json.load(open(sys.argv[3]))).flatten().tolist()))',
  ];
  return Float32Array.from(JSON.parse(trainPy(script, modelZip, inputs, layersFile)) as number[]);
}

/** The page's features of `layers` for grey pixels, by model/features.ts' featuresAndOutputs (one pass, as the page). */
function pageFeatureRows(
  model: tf.LayersModel,
  pixels: number[][],
  layers: readonly { name: string; pooling: OodPooling }[],
): Float32Array {
  const xs = tf.mul(tf.tensor4d(pixels.flat(), [pixels.length, SIZE, SIZE, 1], 'float32'), 1 / 255);
  const { features, outputs } = featuresAndOutputs(model, layers, xs);
  const values = features.dataSync() as Float32Array;
  tf.dispose([xs, features, outputs]);
  return values;
}

/** Largest |a - b| / max(1, |b|) over two equally long lists of numbers. */
function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return max;
}

/** The page's reason in the words of test_predictions.csv's `unlike_mostly` (report.py); empty for none. */
function unlikeMostly(reason: UnlikeReason | null): string {
  if (!reason) return '';
  if (reason.kind === 'detail') return reason.ratio < 1 ? 'less-detail' : 'more-detail';
  return `${reason.early ? 'early' : 'later'}-layers:${reason.layer}`;
}

/**
 * Checks --predict's `unlikeWhy` against the page's reasons for the same images (`page`, its judgement): each
 * flagged image's member (and for the detail, its ratio's side and size; for a layer, its name and half) as
 * unlikeReasonOf gives it, none for an image not flagged or by the one-layer detector. How many were explained.
 */
function expectPageReasons(torch: TorchPrediction[], page: OodJudgement, ensemble: boolean): number {
  let explained = 0;
  torch.forEach((t, i) => {
    if (!t.unlikeTrainingData || !ensemble) {
      expect(t.unlikeWhy).toBeUndefined();
      return;
    }
    const expected = unlikeReasonOf(page, i);
    expect(expected).not.toBeNull();
    expect(unlikeMostly(t.unlikeWhy!)).toBe(unlikeMostly(expected));
    expect(Math.abs(t.unlikeWhy!.share - expected!.share) / expected!.share).toBeLessThan(1e-3);
    if (t.unlikeWhy!.kind === 'detail' && expected!.kind === 'detail')
      expect(Math.abs(t.unlikeWhy!.ratio - expected!.ratio) / expected!.ratio).toBeLessThan(1e-3);
    explained++;
  });
  return explained;
}

/** tfjs' probabilities for grey pixels (0..255) of `size` px squares, as the page scales them. */
function tfjsPredict(model: tf.LayersModel, pixels: number[][], size: number): number[][] {
  return tf.tidy(() => {
    const xs = tf.mul(tf.tensor4d(pixels.flat(), [pixels.length, size, size, 1], 'float32'), 1 / 255);
    return (model.predict(xs) as tf.Tensor).arraySync() as number[][];
  });
}

function maxDifference(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i].length);
    row.forEach((v, j) => (max = Math.max(max, Math.abs(v - b[i][j]))));
  });
  return max;
}

async function readZip(path: string): Promise<Map<string, Uint8Array>> {
  const reader = new ZipReader(new Uint8ArrayReader(new Uint8Array(readFileSync(path))), { useWebWorkers: false });
  const files = new Map<string, Uint8Array>();
  for (const entry of await reader.getEntries()) {
    if (!entry.directory) files.set(entry.filename, await entry.getData!(new Uint8ArrayWriter()));
  }
  await reader.close();
  return files;
}

async function writeZip(path: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false });
  for (const [name, content] of Object.entries(files)) {
    await writer.add(name, typeof content === 'string' ? new TextReader(content) : new Uint8ArrayReader(content));
  }
  writeFileSync(path, await writer.close());
}

/** A model.zip's model in tfjs, as a person would load it (model.json + weights.bin). */
async function loadZipInTfjs(files: Map<string, Uint8Array>): Promise<tf.LayersModel> {
  const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as tf.io.ModelJSON;
  const weights = files.get(json.weightsManifest[0].paths[0])!;
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async () => [
    json.weightsManifest[0].weights,
    weights.slice().buffer as ArrayBuffer,
  ]);
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

/** PIL's convert('L') (the page's grey.ts), for colour test images. */
const grey = (r: number, g: number, b: number) => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;

/** Nearest-neighbour stretch of a square grey image to width x height, as RGBA (a file of another size). */
function rgbaOf(
  pixels: Uint8Array,
  size: number,
  width: number,
  height: number,
  tint: (v: number) => [number, number, number],
): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = pixels[Math.floor((y * size) / height) * size + Math.floor((x * size) / width)];
      const [r, g, b] = tint(v);
      data.set([r, g, b, 255], (y * width + x) * 4);
    }
  }
  return data;
}

function png(width: number, height: number, data: Buffer, colorType: 0 | 2 | 6): Buffer {
  const image = new PNG({ width, height });
  image.data = data;
  return PNG.sync.write(image, { colorType });
}

/** The generated dataset: 24 images a class (16 train, 4 validation, 4 test), PNGs grey, colour and with alpha, and JPEGs of other sizes. */
function writeDataset(): void {
  const perClass = 24;
  const set = syntheticSet(perClass * 2, SIZE, 2, 5);
  const counters = [0, 0];
  for (let i = 0; i < set.count; i++) {
    const label = set.labels[i];
    const k = counters[label]++;
    const split: SplitName = k < 16 ? 'train' : k < 20 ? 'validation' : 'test';
    const folder = split === 'validation' ? 'val' : split;
    const pixels = set.pixels.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE);
    const kind = k % 4;
    // A name that needs quoting in the manifest, among the train images.
    const base =
      k === 1 ? `person${k}_odd, "quoted" name` : `person${Math.floor(k / 2)}_${label === 1 ? 'virus' : 'normal'}_${k}`;
    const name = `${base}.${kind === 3 ? 'jpeg' : 'png'}`;
    const path = `chest_xray/${folder}/${CLASSES[label]}/${name}`;
    let bytes: Buffer;
    if (kind === 0) {
      bytes = png(
        SIZE,
        SIZE,
        rgbaOf(pixels, SIZE, SIZE, SIZE, (v) => [v, v, v]),
        0,
      );
      exactPixels.set(path, pixels.slice());
    } else if (kind === 1) {
      const tint = (v: number): [number, number, number] => [Math.min(255, v + 30), v, Math.max(0, v - 20)];
      bytes = png(SIZE, SIZE, rgbaOf(pixels, SIZE, SIZE, SIZE, tint), 2);
      exactPixels.set(
        path,
        pixels.map((v) => grey(...tint(v))),
      );
    } else if (kind === 2) {
      // Alpha, with a fully transparent corner (black on the page).
      const data = rgbaOf(pixels, SIZE, 48, 36, (v) => [v, v, v]);
      for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) data[(y * 48 + x) * 4 + 3] = 0;
      bytes = png(48, 36, data, 6);
    } else {
      bytes = Buffer.from(
        jpeg.encode({ data: rgbaOf(pixels, SIZE, 52, 44, (v) => [v, v, v]), width: 52, height: 44 }, 92).data,
      );
    }
    mkdirSync(dirname(join(dataDir, path)), { recursive: true });
    writeFileSync(join(dataDir, path), bytes);
    rows.push({ path, split, className: CLASSES[label], group: k === 5 ? null : `person${Math.floor(k / 2)}` });
  }
}

/** A JPEG stored 64 x 32 (left half dark, right half bright) whose EXIF says: turn 90° clockwise to show it. */
function rotatedJpeg(): Buffer {
  const width = 64;
  const height = 32;
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = x < width / 2 ? 10 : 240;
      data.set([v, v, v, 255], (y * width + x) * 4);
    }
  }
  const encoded = Buffer.from(jpeg.encode({ data, width, height }, 95).data);
  // APP1 "Exif": a little-endian TIFF header and one IFD entry, Orientation (0x0112) SHORT = 6.
  const tiff = [
    0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  ];
  const body = [...Buffer.from('Exif\0\0', 'latin1'), ...tiff];
  const app1 = Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body]);
  return Buffer.concat([encoded.subarray(0, 2), app1, encoded.subarray(2)]);
}

/**
 * A model built by the app with weights away from their initial values (biases, BatchNormalization's scale, shift and
 * running statistics), exported as the page exports it and zipped with its metadata, as the page's download.
 */
async function appModelZip(
  name: ModelName,
  numClasses: number,
  path: string,
  intensityNormalisation: IntensityNormalisation = 'none',
  ood: OodLayerChoice = 'detail',
): Promise<tf.LayersModel> {
  const model = buildModel(name, { imageSize: SIZE, numClasses, learningRate: 1e-3, seed: 11, intensityNormalisation });
  const random = mulberry32(numClasses * 7 + name.length);
  for (const variable of model.weights) {
    const weight = variable.originalName.split('/').pop()!;
    if (weight === 'kernel') continue;
    const size = variable.shape.reduce((a, b) => a! * b!, 1)!;
    const values = Float32Array.from({ length: size }, () => {
      const r = random();
      if (weight === 'gamma') return 0.5 + r;
      if (weight === 'moving_variance') return 0.3 + 1.5 * r;
      return (r - 0.5) * 0.4; // bias, beta, moving_mean
    });
    variable.write(tf.tensor(values, variable.shape as number[]));
  }
  const classNames = numClasses === 2 ? CLASSES : ['a', 'b', 'c'];
  // A detector as the page fits one, on this model's features of generated images (not the dataset's: a loaded
  // model's statistics come from elsewhere).
  const fitSet = syntheticSet(60, SIZE, numClasses, 21);
  const fitPixels = Array.from({ length: fitSet.count }, (_, i) =>
    Array.from(fitSet.pixels.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE)),
  );
  // The page's `ood` setting: the feature ensemble with the image's detail as the page fits it now (`detail`), the
  // one of models saved before the detail (`layers`), or the one-layer detector of models saved before either (`last`).
  const layers = tfjsOodLayers(
    model,
    ood === 'detail' ? PAGE_DETAIL_OOD_LAYERS : ood === 'layers' ? PAGE_OOD_LAYERS : [['dense_1', 'none']],
  );
  const width = layers.reduce((sum, l) => sum + l.size, 0);
  const fitFeatures = tfjsOodRows(model, fitPixels, SIZE, layers);
  const train = { features: fitFeatures.subarray(0, 40 * width), labels: fitSet.labels.subarray(0, 40) };
  const { detector } =
    ood !== 'last'
      ? fitFeatureEnsembleDetector(train, fitFeatures.subarray(40 * width), { layers, numClasses })
      : fitOodDetector(train, fitFeatures.subarray(40 * width), {
          featureSize: 64,
          numClasses,
          featureLayer: 'dense_1',
        });
  writeFileSync(path + '.detector.json', JSON.stringify(detector));
  const exported = await exportLayersModel(model);
  const metadata: ModelMetadata = {
    model: name,
    classNames,
    imageSize: SIZE,
    channels: 1,
    normalisation: 'grey',
    output: numClasses === 2 ? 'sigmoid' : 'softmax',
    positiveClass: numClasses === 2 ? classNames[1] : null,
    threshold: 0.5,
    thresholdClass: classNames[1],
    thresholdRule: 'fixed',
    resize: 'squashed',
    trainedEpochs: 1,
    backend: 'cpu',
    createdAt: new Date(0).toISOString(),
    outOfDistribution: detector,
  };
  await writeZip(path, {
    'model.json': exported.modelJson,
    'weights.bin': new Uint8Array(exported.weights),
    'metadata.json': JSON.stringify(metadata),
  });
  return model;
}

const settings: Settings = {
  ...DEFAULT_SETTINGS,
  model: 'batchnorm',
  imageSize: SIZE,
  epochs: 1,
  batchSize: 8,
  seed: 3,
  thresholdRule: 'youden',
  augmentation: {
    ...DEFAULT_SETTINGS.augmentation,
    rotation: 10,
    zoom: 0.2,
    shift: 0.1,
    shear: 10,
    brightness: 0.2,
    horizontalFlip: true,
    crop: 0.3,
  },
};

/** The model.json the app writes for the bundle's settings (a batchnorm model, 2 classes). */
async function appModelJson(intensityNormalisation: IntensityNormalisation, members = 1): Promise<tf.io.ModelJSON> {
  const app = buildModel('batchnorm', {
    imageSize: SIZE,
    numClasses: 2,
    learningRate: settings.learningRate,
    seed: settings.seed,
    intensityNormalisation,
    members,
  });
  try {
    return JSON.parse((await exportLayersModel(app)).modelJson) as tf.io.ModelJSON;
  } finally {
    disposeCnn(app);
  }
}

/** The topology the app itself writes for a snapshot ensemble of `members` (model/ensemble.ts builds it so). */
async function stackedTopology(members: number): Promise<unknown> {
  return (await appModelJson('none', members)).modelTopology;
}

/** train.py under torchrun, 2 processes on this machine; its output. */
function torchrunTwo(args: string[]): string {
  // --standalone: a free local port for the rendezvous. --redirects/--tee: PyTorch 1.13's torchrun fails without
  // them on Python 3.11 ('NoneType' object has no attribute 'get'); harmless elsewhere.
  const options = ['--standalone', '--redirects', '1', '--tee', '1', '--nproc_per_node=2'];
  return run(TORCHRUN, [...options, 'train.py', ...args], bundleDir);
}

/** train.py's words when it refuses a run (it must exit with an error and write nothing). */
function refusal(args: string[]): string {
  const result = spawnSync(PYTHON, ['train.py', ...args], { cwd: bundleDir, env: ENV, encoding: 'utf8' });
  expect(result.status).not.toBe(0);
  return result.stderr;
}

/** Largest difference of tfjs' probabilities and PyTorch's, for the pixels PyTorch read. */
function tfjsVsTorch(model: tf.LayersModel, torch: TorchPrediction[]): number {
  return maxDifference(
    tfjsPredict(
      model,
      torch.map((t) => t.pixels),
      SIZE,
    ),
    torch.map((t) => t.probabilities),
  );
}

describe.skipIf(!hasTorch)('the PyTorch bundle with PyTorch', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    root = mkdtempSync(join(tmpdir(), 'pytorch-bundle-'));
    dataDir = join(root, 'data');
    bundleDir = join(root, 'bundle');
    mkdirSync(bundleDir, { recursive: true });
    writeDataset();
    for (const file of pytorchBundleFiles({ settings, classNames: CLASSES, rows })) {
      mkdirSync(dirname(join(bundleDir, file.name)), { recursive: true });
      writeFileSync(join(bundleDir, file.name), file.text);
    }
  });

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('trains with torchrun on 2 processes and writes a model.zip that tfjs loads and that predicts as PyTorch does', async () => {
    const out = join(root, 'out');
    const started = performance.now();
    const log = torchrunTwo(['--data', dataDir, '--epochs', '1', '--out', out]);
    const seconds = (performance.now() - started) / 1000;
    console.log(`torchrun --nproc_per_node=2, 1 epoch of 32 images at ${SIZE} px: ${seconds.toFixed(1)} s`);
    expect(log).toContain('2 process(es) on cpu');
    expect(log).toMatch(/epoch 1\/1: loss [\d.]+/);
    expect(log).toMatch(/test \(8 images\)/);

    const history = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n');
    expect(history[0]).toBe('epoch,loss,accuracy,val_loss,val_accuracy,best_val_loss,seconds,images_per_second');
    expect(history).toHaveLength(2);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.test.images).toBe(8);
    expect(metrics.validation.images).toBe(8);
    expect(metrics.thresholdRule).toBe('youden');
    expect(readFileSync(join(out, 'test_predictions.csv'), 'utf8').trim().split('\n')).toHaveLength(9);

    const files = await readZip(join(out, 'model.zip'));
    expect([...files.keys()].sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    const metadata = JSON.parse(new TextDecoder().decode(files.get('metadata.json'))) as ModelMetadata;
    const keys: (keyof ModelMetadata)[] = [
      'model',
      'classNames',
      'imageSize',
      'channels',
      'normalisation',
      'output',
      'positiveClass',
      'threshold',
      'thresholdClass',
      'thresholdRule',
      'resize',
      'trainedEpochs',
      'backend',
      'createdAt',
      'outOfDistribution',
      'inputDecoding',
    ];
    expect(Object.keys(metadata).sort()).toEqual([...keys].sort());
    // load_grey decodes as the page does now: the page takes the model as trained on films like its own.
    expect(metadata.inputDecoding).toBe(INPUT_DECODING);
    expect(metadata.resize).toBe(resizeText(SIZE));
    expect(metadata).toMatchObject({
      model: 'batchnorm',
      classNames: CLASSES,
      imageSize: SIZE,
      channels: 1,
      output: 'sigmoid',
      positiveClass: 'PNEUMONIA',
      thresholdClass: 'PNEUMONIA',
      thresholdRule: 'youden',
      trainedEpochs: 1,
    });
    expect(metadata.threshold).toBeGreaterThan(0);

    // The same model.json the app writes for these settings, but for the tool that wrote it.
    const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as tf.io.ModelJSON;
    const appJson = await appModelJson('none');
    expect(json.modelTopology).toEqual(appJson.modelTopology);
    expect(json.weightsManifest).toEqual(appJson.weightsManifest);
    expect(json.trainingConfig).toEqual(appJson.trainingConfig);
    expect(json.format).toBe('layers-model');

    const model = await loadZipInTfjs(files);
    const images = rows
      .filter((row) => row.split !== 'train' || row.path.includes('quoted'))
      .map((row) => join(dataDir, row.path));
    const torch = torchPredict(join(out, 'model.zip'), images);
    // Pixels as the page decodes them, where that is exact: PNGs at the model's size (grey, and colour through PIL's grey).
    for (const item of torch) {
      const expected = exactPixels.get(item.path.slice(dataDir.length + 1));
      if (expected) expect(item.pixels).toEqual(Array.from(expected));
    }
    const difference = tfjsVsTorch(model, torch);
    console.log(
      `model.zip from PyTorch: tfjs vs PyTorch on ${torch.length} images, max |difference| ${difference.toExponential(2)}`,
    );
    expect(difference).toBeLessThan(TOLERANCE);

    // Its out-of-distribution detector: the feature ensemble over OOD_LAYERS and the image's detail (the default
    // `ood`, detail) fitted on its training images, valid as the page checks it, in model.json too, and PyTorch's
    // scores are the page's for the same pixels.
    expect(settings.ood).toBe('detail');
    const detector = checkOodDetector(metadata.outOfDistribution, { layerSize: layerSizeOf(model), numClasses: 2 });
    expect(detector).toMatchObject({
      method: 'mahalanobis-feature-ensemble',
      quantile: 0.95,
      trainImages: 32,
      validationImages: 8,
    });
    expect(oodFeatureLayers(detector)).toEqual(tfjsOodLayers(model, PAGE_DETAIL_OOD_LAYERS));
    const detail = (detector as FeatureEnsembleOodDetector).layers.at(-1)!;
    expect(detail).toMatchObject({ featureLayer: IMAGE_DETAIL_LAYER, pooling: 'detail-octaves' });
    expect(detail.precision.map((row) => row.length)).toEqual([4, 4, 4, 4]);
    // As the page checks a loaded model's: its own layer widths (model/features.ts).
    const widths = { layerSize: (name: string, pooling: OodPooling) => pageLayerSizeOf(model, name, pooling) };
    expect(checkOodDetector(metadata.outOfDistribution, { ...widths, numClasses: 2 })).toEqual(detector);
    expect(metrics.outOfDistribution.method).toBe('mahalanobis-feature-ensemble');
    expect((json as { userDefinedMetadata?: unknown }).userDefinedMetadata).toEqual({
      outOfDistribution: metadata.outOfDistribution,
    });
    expect(metrics.outOfDistribution.validation).toMatchObject({ images: 8 });
    expect(metrics.outOfDistribution.validation.flagged).toBeLessThanOrEqual(1);
    expect(log).toMatch(/validation: \d of 8 images are unlike the training data \(.*feature-ensemble score/);
    const oodDifference = distanceDifference(model, detector, torch);
    console.log(
      `model.zip from PyTorch: feature-ensemble scores, tfjs vs PyTorch, max relative difference ${oodDifference.toExponential(2)}`,
    );
    expect(oodDifference).toBeLessThan(1e-3);
    expect(torch.every((t) => t.unlikeTrainingData === t.oodDistance! > detector.threshold)).toBe(true);
    model.dispose();
  }, 150_000);

  it('trains with per-image standardisation as the page builds it (--norm), and tfjs predicts as PyTorch does', async () => {
    const out = join(root, 'out-norm');
    // The page's `Unlike-training detector` `last` in settings.json: train.py fits dense_1's detector alone.
    const settings = join(root, 'settings-ood-last.json');
    const bundled = JSON.parse(readFileSync(join(bundleDir, 'settings.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(settings, JSON.stringify({ ...bundled, ood: 'last' }));
    const log = run(
      PYTHON,
      ['train.py', '--data', dataDir, '--epochs', '1', '--norm', 'per-image', '--workers', '0', '--out', out].concat([
        '--settings',
        settings,
      ]),
      bundleDir,
    );
    expect(log).toContain('intensity normalisation per-image');
    const files = await readZip(join(out, 'model.zip'));
    const written = JSON.parse(new TextDecoder().decode(files.get('metadata.json'))) as ModelMetadata;
    expect(written.outOfDistribution?.method).toBe('mahalanobis-tied-covariance');
    const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as tf.io.ModelJSON;
    const appJson = await appModelJson('per-image');
    expect(json.modelTopology).toEqual(appJson.modelTopology);
    const model = await loadZipInTfjs(files);
    expect(model.layers[0].getClassName()).toBe('PerImageStandardization');
    const images = rows.filter((_, i) => i % 2 === 0).map((row) => join(dataDir, row.path));
    const torch = torchPredict(join(out, 'model.zip'), images);
    const difference = tfjsVsTorch(model, torch);
    expect(difference).toBeLessThan(TOLERANCE);
    model.dispose();
  }, 120_000);

  it('stacks K members into one model whose probabilities are the mean of theirs, block by block', () => {
    const script = [
      'import json, sys, torch',
      `sys.path.insert(0, ${JSON.stringify(bundleDir)})`,
      IMPORT_MODULES,
      'torch.manual_seed(4)',
      // 64 px: a 3 x 3 map before Flatten, so that dense_1's row order matters (at 40 px it is 1 x 1).
      'x = torch.rand(7, 1, 64, 64)',
      'out = []',
      "for name, norm, k in (('tutorial', 'none', 2), ('batchnorm', 'none', 3), ('batchnorm', 'per-image', 2)):",
      '    members = []',
      '    for _ in range(k):',
      '        m = network.AppCnn(name, 64, 2, norm)',
      '        with torch.no_grad():',
      '            for key, v in m.state_dict().items():',
      "                if key.endswith('bias') or key.endswith('running_mean'): v.uniform_(-0.3, 0.3)",
      "                if key.endswith('running_var'): v.uniform_(0.3, 1.8)",
      "                if key.startswith('batch_normalization') and key.endswith('weight'): v.uniform_(0.5, 1.5)",
      '        members.append(m.eval())',
      '    stacked = ensemble.stack_members(members)',
      '    with torch.no_grad():',
      '        own = torch.cat([m(x) for m in members], dim=1)',
      '        pooled, p = stacked.features_and_probabilities(x)',
      "        features = pooled['dense_1']",
      '        each = stacked.member_probabilities(features)',
      '    again = ensemble.stack_members(ensemble.member_models(stacked)).state_dict()',
      '    round_trip = all(torch.equal(v, again[key]) for key, v in stacked.state_dict().items())',
      // The spec's layout in the page's terms: dense_1/kernel row ((p K + k) C + c), column k 64 + u is member k's
      // row p C + c, column u (p = i w + j); conv2d_2/kernel block-diagonal; zero elsewhere.
      "    big = tfjs_format.to_tfjs('dense_1/kernel', stacked.dense_1.weight)",
      '    spec = big * 0',
      '    for i, m in enumerate(members):',
      "        single = tfjs_format.to_tfjs('dense_1/kernel', m.dense_1.weight).reshape(-1, 32, 64)",
      '        spec.reshape(-1, k, 32, k, 64)[:, i, :, i, :] = single',
      "    conv = tfjs_format.to_tfjs('conv2d_2/kernel', stacked.conv2d_2.weight)",
      '    conv_spec = conv * 0',
      '    for i, m in enumerate(members):',
      "        block = tfjs_format.to_tfjs('conv2d_2/kernel', m.conv2d_2.weight)",
      '        conv_spec[:, :, i * 32:(i + 1) * 32, i * 32:(i + 1) * 32] = block',
      '    layout = bool((big == spec).all() and (conv == conv_spec).all())',
      // Scoring member by member (what evaluation and --predict do) gives the wide model's numbers; with a weight
      // off the blocks (not this format) it falls back to the wide layers.
      '    fast = ensemble.scorer(stacked)',
      '    with torch.no_grad():',
      '        fast_features, fast_p = fast(x)',
      '        stacked.conv2d_2.weight[0, -1] += 0.1',
      "    members_way = fast.__name__ == 'members_features_and_probabilities'",
      "    wide_way = ensemble.scorer(stacked).__name__ == 'features_and_probabilities'",
      // Every layer the detectors read, member by member as wide: the members' channels side by side (the input's
      // detail once).
      '    same = bool(all(torch.allclose(fast_features[n], pooled[n], atol=1e-6) for n in pooled)',
      '                and torch.allclose(fast_p, p, atol=1e-6))',
      '    widths = [f.shape[1] for f in pooled.values()]',
      '    scored = members_way and wide_way and same',
      '    out.append({"k": k, "mean": own.mean(dim=1).tolist(), "stacked": p[:, 0].tolist(),',
      '                "members": own.tolist(), "each": each.tolist(), "features": features.shape[1],',
      '                "layout": layout, "roundTrip": round_trip, "scored": scored, "widths": widths})',
      'print(json.dumps(out))',
    ].join('\n');
    const cases = JSON.parse(run(PYTHON, ['-c', script], bundleDir)) as {
      k: number;
      mean: number[];
      stacked: number[];
      members: number[][];
      each: number[][];
      features: number;
      roundTrip: boolean;
      layout: boolean;
      scored: boolean;
      widths: number[];
    }[];
    for (const c of cases) {
      // The input's detail last, as wide for any K: the one input's.
      expect(c.widths).toEqual([...[32, 32, 64, 32, 64].map((w) => w * c.k), 4]);
      expect(maxDifference([c.stacked], [c.mean])).toBeLessThan(1e-5);
      expect(maxDifference(c.each, c.members)).toBeLessThan(1e-5);
      expect(c.features).toBe(64 * c.k);
      // Members unstacked and stacked again give the same weights: nothing lies off the blocks.
      expect(c.roundTrip).toBe(true);
      expect(c.layout).toBe(true);
      expect(c.scored).toBe(true);
      // The members disagree, so the mean is not any one of them.
      const spread = Math.max(...c.members.map((row) => Math.max(...row) - Math.min(...row)));
      expect(spread).toBeGreaterThan(1e-3);
    }
  }, 60_000);

  it('trains a 2-snapshot ensemble with torchrun into one model.zip that tfjs predicts with as PyTorch', async () => {
    const out = join(root, 'out-snapshots');
    const log = torchrunTwo(['--data', dataDir, '--epochs', '3', '--snapshots', '2', '--workers', '0', '--out', out]);
    expect(log).toContain('Snapshot ensemble of 2: cycles of epochs 1-1, 2-3');
    expect(log).toContain('snapshot 1/2 taken (end of epoch 1)');
    expect(log).toContain('snapshot 2/2 taken (end of epoch 3)');
    expect(log).toContain('Trained all 3 epoch(s).');
    expect(readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n')).toHaveLength(4);

    const files = await readZip(join(out, 'model.zip'));
    const metadata = JSON.parse(new TextDecoder().decode(files.get('metadata.json'))) as ModelMetadata & {
      ensemble?: unknown;
    };
    expect(metadata.ensemble).toEqual({ kind: 'snapshot', members: 2 });
    expect(metadata.trainedEpochs).toBe(3);

    // The app's topology for these settings with every width doubled, then the averaging layer as tfjs writes it.
    const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as tf.io.ModelJSON;
    expect(json.modelTopology).toEqual(await stackedTopology(2));
    const model = await loadZipInTfjs(files);
    expect(model.layers.at(-1)!.name).toBe('ensemble_average');
    expect(model.layers.at(-1)!.trainable).toBe(false);
    // Weights listed in the order, names and shapes tfjs gives the loaded model.
    expect(json.weightsManifest[0].weights.map((w) => [w.name, w.shape])).toEqual(
      model.weights.map((w) => [w.originalName, w.shape]),
    );
    expect(Array.from(model.getLayer('ensemble_average').getWeights()[0].dataSync())).toEqual([0.5, 0.5]);

    const images = rows.filter((_, i) => i % 2 === 0).map((row) => join(dataDir, row.path));
    const torch = torchPredict(join(out, 'model.zip'), images) as (TorchPrediction & {
      memberProbabilities: number[];
    })[];
    expect(tfjsVsTorch(model, torch)).toBeLessThan(TOLERANCE);
    // The output is the mean of the members', and the members (two snapshots of one run) differ.
    expect(
      maxDifference(
        torch.map((t) => t.probabilities),
        torch.map((t) => [(t.memberProbabilities[0] + t.memberProbabilities[1]) / 2]),
      ),
    ).toBeLessThan(1e-6);
    expect(
      Math.max(...torch.map((t) => Math.abs(t.memberProbabilities[0] - t.memberProbabilities[1]))),
    ).toBeGreaterThan(1e-4);
    // Each member taken out of the stacked model on its own predicts what the ensemble says it does.
    const inputs = join(root, 'snapshot-pixels.json');
    writeFileSync(inputs, JSON.stringify(torch.map((t) => t.pixels)));
    const script = [
      ...MODEL_AND_PIXELS(),
      'with torch.no_grad():',
      '    print(json.dumps(torch.cat([m(x) for m in ensemble.member_models(model)], dim=1).tolist()))',
    ];
    const members = JSON.parse(trainPy(script, join(out, 'model.zip'), inputs)) as number[][];
    expect(
      maxDifference(
        members,
        torch.map((t) => t.memberProbabilities),
      ),
    ).toBeLessThan(1e-5);

    // Its out-of-distribution detector judges the stacked model's layers: both members' features side by side
    // (twice the channels and units), read member by member in PyTorch, and the page's for the same pixels.
    // The image's detail (the default `ood`) is the one input's: 4 numbers, not K x 4.
    const detector = checkOodDetector(metadata.outOfDistribution, { layerSize: layerSizeOf(model), numClasses: 2 });
    expect(detector).toMatchObject({ method: 'mahalanobis-feature-ensemble', trainImages: 32, validationImages: 8 });
    expect(oodFeatureLayers(detector)).toEqual(tfjsOodLayers(model, PAGE_DETAIL_OOD_LAYERS));
    expect(oodFeatureLayers(detector).map((l) => l.size)).toEqual([64, 64, 128, 64, 128, 4]);
    expect(distanceDifference(model, detector, torch)).toBeLessThan(1e-3);
    const pixels = torch.map((t) => t.pixels);
    expect(
      relativeDifference(
        torchOodRows(join(out, 'model.zip'), pixels, PAGE_DETAIL_OOD_LAYERS),
        pageFeatureRows(model, pixels, oodFeatureLayers(detector)),
      ),
    ).toBeLessThan(TOLERANCE);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.outOfDistribution.validation).toMatchObject({ images: 8 });

    // Evaluating it (--epochs 0) works and scores the test images as --predict does; training it further does not.
    const evalOut = join(root, 'eval-snapshots');
    run(
      PYTHON,
      [
        'train.py',
        '--data',
        dataDir,
        '--init',
        join(out, 'model.zip'),
        '--epochs',
        '0',
        '--workers',
        '0',
        '--out',
        evalOut,
      ],
      bundleDir,
    );
    const scored = readFileSync(join(evalOut, 'test_predictions.csv'), 'utf8').trim().split('\n').slice(1);
    const scoredTorch = torchPredict(
      join(out, 'model.zip'),
      scored.map((line) => join(dataDir, line.split(',')[0])),
    );
    expect(
      maxDifference(
        scored.map((line) => [Number(line.split(',')[3])]),
        scoredTorch.map((t) => t.probabilities),
      ),
    ).toBeLessThan(1e-5);
    expect(
      refusal(['--data', dataDir, '--init', join(out, 'model.zip'), '--epochs', '1', '--out', join(root, 'no')]),
    ).toContain('cannot be trained further');
    // A metadata.json that disagrees with the model it comes with is refused, not believed.
    const tampered = join(root, 'snapshots-tampered.zip');
    await writeZip(tampered, {
      'model.json': files.get('model.json')!,
      'weights.bin': files.get('weights.bin')!,
      'metadata.json': JSON.stringify({ ...metadata, ensemble: { kind: 'snapshot', members: 3 } }),
    });
    expect(refusal(['--predict', tampered, '--images', images[0]])).toContain("is not the model's 2 members");
    // Members whose outputs are not probabilities of one class cannot be averaged: refused, not misread.
    const softmax = structuredClone(json) as unknown as {
      modelTopology: { config: { layers: { config: { name: string; activation?: string } }[] } };
    };
    softmax.modelTopology.config.layers.find((layer) => layer.config.name === 'dense_2')!.config.activation = 'softmax';
    await writeZip(tampered, {
      'model.json': JSON.stringify(softmax),
      'weights.bin': files.get('weights.bin')!,
      'metadata.json': files.get('metadata.json')!,
    });
    expect(refusal(['--predict', tampered, '--images', images[0]])).toContain('sigmoid outputs to 1');
    model.dispose();
  }, 150_000);

  it('refuses in words a snapshot ensemble it cannot train', () => {
    expect(refusal(['--data', dataDir, '--epochs', '1', '--snapshots', '2', '--out', join(root, 'no')])).toContain(
      'needs at least 2 epochs',
    );
    expect(refusal(['--data', dataDir, '--snapshots', '6', '--out', join(root, 'no')])).toContain(
      'from 1 to 5 (got 6)',
    );
    // Three classes: the members' softmax outputs cannot be averaged by the one last Dense layer.
    const threeClasses = join(root, 'three-classes');
    mkdirSync(threeClasses, { recursive: true });
    const classOf = (i: number) => ['a', 'b', 'c'][i % 3];
    writeFileSync(
      join(threeClasses, 'manifest.csv'),
      manifestCsv(rows.map((row, i) => ({ ...row, className: classOf(i) }))),
    );
    writeFileSync(
      join(threeClasses, 'settings.json'),
      JSON.stringify({ ...settings, snapshots: 2, epochs: 2, classNames: ['a', 'b', 'c'] }),
    );
    const message = refusal([
      '--data',
      dataDir,
      '--manifest',
      join(threeClasses, 'manifest.csv'),
      '--settings',
      join(threeClasses, 'settings.json'),
      '--out',
      join(root, 'no'),
    ]);
    expect(message).toContain('needs exactly 2 classes');
    expect(message).toContain('the manifest has 3 classes');
    expect(existsSync(join(root, 'no'))).toBe(false);
  }, 60_000);

  it('trains a seed ensemble of 2 into one model.zip: member k is the plain run of seed + 1009 k', async () => {
    const common = ['--data', dataDir, '--epochs', '2', '--patience', '0', '--workers', '0'];
    const out = join(root, 'out-seeds');
    const log = run(PYTHON, ['train.py', ...common, '--seed', '5', '--seed-models', '2', '--out', out], bundleDir);
    expect(log).toContain('Seed ensemble: member 1 of 2, seed 5.');
    expect(log).toContain('Seed ensemble: member 2 of 2, seed 1014.');
    expect(log).toContain('Stacked the 2 members into one model');
    // Each member's epochs in its own span of the run's, as the page shows them.
    const history = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n').slice(1);
    expect(history.map((line) => line.split(',')[0])).toEqual(['1', '2', '3', '4']);
    const files = await readZip(join(out, 'model.zip'));
    const metadata = JSON.parse(new TextDecoder().decode(files.get('metadata.json'))) as { ensemble?: unknown };
    expect(metadata.ensemble).toEqual({ kind: 'seeds', members: 2 });
    const model = await loadZipInTfjs(files);
    expect(model.layers.at(-1)!.name).toBe('ensemble_average');
    const images = rows.filter((_, i) => i % 3 === 0).map((row) => join(dataDir, row.path));
    const torch = torchPredict(join(out, 'model.zip'), images) as (TorchPrediction & {
      memberProbabilities: number[];
    })[];
    expect(tfjsVsTorch(model, torch)).toBeLessThan(TOLERANCE);
    model.dispose();
    // Member 0 is the plain run of seed 5, member 1 that of seed 1014: the same weights, so the same probabilities.
    for (const [k, seed] of [
      [0, 5],
      [1, 1014],
    ]) {
      const single = join(root, `out-seed-${seed}`);
      run(PYTHON, ['train.py', ...common, '--seed', String(seed), '--out', single], bundleDir);
      const plain = torchPredict(join(single, 'model.zip'), images);
      expect(
        maxDifference(
          plain.map((p) => p.probabilities),
          torch.map((t) => [t.memberProbabilities[k]]),
        ),
      ).toBeLessThan(1e-5);
    }
    const spread = Math.max(...torch.map((t) => Math.abs(t.memberProbabilities[0] - t.memberProbabilities[1])));
    expect(spread).toBeGreaterThan(1e-3);

    // Under torchrun too: each member's own DistributedDataParallel wrapper, the stacked model written by rank 0.
    // With `ood` layers in settings.json: the feature ensemble without the image's detail (OOD_LAYERS alone).
    const layersSettings = join(root, 'settings-ood-layers.json');
    const bundled = JSON.parse(readFileSync(join(bundleDir, 'settings.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(layersSettings, JSON.stringify({ ...bundled, ood: 'layers' }));
    const distributed = join(root, 'out-seeds-ddp');
    const ddpLog = torchrunTwo([
      '--data',
      dataDir,
      '--epochs',
      '1',
      '--seed-models',
      '2',
      '--workers',
      '0',
      '--settings',
      layersSettings,
      '--out',
      distributed,
    ]);
    expect(ddpLog).toContain('Stacked the 2 members into one model');
    const ddpFiles = await readZip(join(distributed, 'model.zip'));
    const ddpMetadata = JSON.parse(new TextDecoder().decode(ddpFiles.get('metadata.json'))) as ModelMetadata;
    expect(ddpMetadata).toMatchObject({ ensemble: { kind: 'seeds', members: 2 } });
    const ddpModel = await loadZipInTfjs(ddpFiles);
    const ddpDetector = checkOodDetector(ddpMetadata.outOfDistribution, {
      layerSize: layerSizeOf(ddpModel),
      numClasses: 2,
    });
    expect(oodFeatureLayers(ddpDetector)).toEqual(tfjsOodLayers(ddpModel, PAGE_OOD_LAYERS));
    ddpModel.dispose();
  }, 240_000);

  it('refuses in words an `ood` setting it does not know', () => {
    const unknown = join(root, 'settings-ood-unknown.json');
    const bundled = JSON.parse(readFileSync(join(bundleDir, 'settings.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(unknown, JSON.stringify({ ...bundled, ood: 'penultimate' }));
    const no = join(root, 'no');
    const words = refusal(['--data', dataDir, '--settings', unknown, '--out', no]);
    expect(words).toContain('ood must be "detail"');
    expect(words).toContain('got "penultimate"');
    expect(existsSync(no)).toBe(false);
  }, 60_000);

  it('refuses in words a seed ensemble it cannot train', () => {
    const no = join(root, 'no');
    const both = refusal(['--data', dataDir, '--seed-models', '2', '--snapshots', '2', '--epochs', '2', '--out', no]);
    expect(both).toContain('seed ensemble of 2 and a snapshot ensemble of 2 cannot be combined');
    expect(refusal(['--data', dataDir, '--seed-models', '6', '--out', no])).toContain('from 1 to 5 (got 6)');
    expect(existsSync(no)).toBe(false);
  }, 60_000);

  it('applies EXIF orientation before squashing an image', async () => {
    const path = join(root, 'rotated.jpeg');
    writeFileSync(path, rotatedJpeg());
    const zip = join(root, 'exif-model.zip');
    disposeCnn(await appModelZip('tutorial', 2, zip));
    const [item] = torchPredict(zip, [path]);
    const mean = (from: number, to: number) => {
      let sum = 0;
      for (let y = from; y < to; y++) for (let x = 0; x < SIZE; x++) sum += item.pixels[y * SIZE + x];
      return sum / ((to - from) * SIZE);
    };
    // Stored: dark left, bright right; shown (turned 90° clockwise): dark top, bright bottom.
    expect(mean(0, 15)).toBeLessThan(40);
    expect(mean(25, 40)).toBeGreaterThan(210);
  }, 60_000);

  // `ood`: the page's setting the model's detector was fitted under: the feature ensemble with the image's detail
  // (`detail`, now the default), without it (`layers`, models saved before the detail), or the one-layer method
  // (`last`, what models saved before the feature ensemble carry).
  const cases: { model: ModelName; numClasses: number; norm: IntensityNormalisation; ood: OodLayerChoice }[] = [
    { model: 'tutorial', numClasses: 2, norm: 'none', ood: 'last' },
    { model: 'batchnorm', numClasses: 2, norm: 'none', ood: 'detail' },
    { model: 'batchnorm', numClasses: 3, norm: 'none', ood: 'last' },
    { model: 'batchnorm', numClasses: 2, norm: 'per-image', ood: 'detail' },
    { model: 'tutorial', numClasses: 3, norm: 'per-image', ood: 'layers' },
  ];
  it.each(cases)(
    "loads the app's $model model ($numClasses classes, intensity normalisation $norm, $ood) in PyTorch, which predicts and judges as tfjs does",
    async ({ model: name, numClasses, norm, ood }) => {
      const zip = join(root, `app-${name}-${numClasses}-${norm}.zip`);
      const model = await appModelZip(name, numClasses, zip, norm, ood);

      const images = rows.filter((_, i) => i % 3 === 0).map((row) => join(dataDir, row.path));
      const torch = torchPredict(zip, images);
      const fromTfjs = tfjsPredict(
        model,
        torch.map((t) => t.pixels),
        SIZE,
      );
      const difference = maxDifference(
        fromTfjs,
        torch.map((t) => t.probabilities),
      );
      console.log(
        `app's ${name} (${numClasses} classes) in PyTorch: max |difference| ${difference.toExponential(2)} on ${images.length} images`,
      );
      expect(difference).toBeLessThan(TOLERANCE);
      const detector = JSON.parse(readFileSync(zip + '.detector.json', 'utf8')) as OodDetector;
      expect(detector.method).toBe(ood === 'last' ? 'mahalanobis-tied-covariance' : 'mahalanobis-feature-ensemble');
      expect(oodFeatureLayers(detector).map((l) => [l.name, l.pooling])).toEqual(
        ood === 'detail' ? PAGE_DETAIL_OOD_LAYERS : ood === 'layers' ? PAGE_OOD_LAYERS : [['dense_1', 'none']],
      );
      const oodDifference = distanceDifference(model, detector, torch);
      console.log(
        `app's ${name} (${numClasses} classes), ${ood}: scores, max relative difference ${oodDifference.toExponential(2)}`,
      );
      expect(oodDifference).toBeLessThan(1e-3);
      expect(torch.every((t) => t.unlikeTrainingData === t.oodDistance! > detector.threshold)).toBe(true);
      // Why each flagged image is (`unlikeWhy`): the page's reason for the same pixels, from a feature ensemble only.
      const explained = expectPageReasons(
        torch,
        judge(
          detector,
          tfjsOodRows(
            model,
            torch.map((t) => t.pixels),
            SIZE,
            oodFeatureLayers(detector),
          ),
        ),
        ood !== 'last',
      );
      const flagged = torch.filter((t) => t.unlikeTrainingData).length;
      console.log(`app's ${name} (${numClasses} classes), ${ood}: ${explained} of ${flagged} flagged images explained`);
      // These images are not the ones the detector was fitted on (appModelZip: generated ones): a feature ensemble
      // flags some, so there are reasons to compare.
      if (ood !== 'last') expect(explained).toBeGreaterThan(0);
      // Not a constant: the comparison means something.
      const spread = Math.max(...fromTfjs.map((p) => p[0])) - Math.min(...fromTfjs.map((p) => p[0]));
      expect(spread).toBeGreaterThan(1e-3);

      // The features themselves: every layer of train.py's OOD_LAYERS pooled as the page pools it, side by side.
      const pixels = torch.map((t) => t.pixels);
      const featureDifference = relativeDifference(
        torchOodRows(zip, pixels),
        tfjsOodRows(model, pixels, SIZE, tfjsOodLayers(model, torchOodLayers())),
      );
      console.log(
        `app's ${name} (${numClasses} classes): pooled features, max relative difference ${featureDifference.toExponential(2)}`,
      );
      expect(featureDifference).toBeLessThan(TOLERANCE);
      // And with the image's detail, as the page's featuresAndOutputs gives them in one pass: the detail read from
      // the input before the model's per-image standardisation, in PyTorch as on the page.
      const detailDifference = relativeDifference(
        torchOodRows(zip, pixels, PAGE_DETAIL_OOD_LAYERS),
        pageFeatureRows(model, pixels, OOD_LAYERS_WITH_DETAIL),
      );
      expect(detailDifference).toBeLessThan(TOLERANCE);

      if (numClasses === 2 && norm === 'none') {
        // --init, evaluation only, through the training script's own data path: its test predictions are tfjs'.
        const out = join(root, `eval-${name}`);
        const log = run(
          PYTHON,
          ['train.py', '--data', dataDir, '--init', zip, '--epochs', '0', '--out', out],
          bundleDir,
        );
        expect(log).toContain('test (8 images)');
        expect(existsSync(join(out, 'model.zip'))).toBe(false);
        const lines = readFileSync(join(out, 'test_predictions.csv'), 'utf8').trim().split('\n');
        // A feature ensemble adds why a flagged image is, and with the detail member each image's detail ratio.
        const why = ood === 'last' ? '' : ood === 'layers' ? ',unlike_mostly' : ',unlike_mostly,detail_ratio';
        expect(lines[0]).toBe(`path,class,group,p_PNEUMONIA,ood_distance,unlike_training_data${why}`);
        const scored = lines.slice(1).map((line) => line.split(','));
        const testTorch = torchPredict(
          zip,
          scored.map(([path]) => join(dataDir, path)),
        );
        const testTfjs = tfjsPredict(
          model,
          testTorch.map((t) => t.pixels),
          SIZE,
        );
        const evalDifference = maxDifference(
          testTfjs,
          scored.map((fields) => [Number(fields[3])]),
        );
        console.log(
          `--init ${name} --epochs 0: test predictions vs tfjs, max |difference| ${evalDifference.toExponential(2)}`,
        );
        expect(evalDifference).toBeLessThan(TOLERANCE);
        // It judges with the detector the page put in metadata.json, as the page does.
        const detector = JSON.parse(readFileSync(zip + '.detector.json', 'utf8')) as OodDetector;
        const page = judge(
          detector,
          tfjsOodRows(
            model,
            testTorch.map((t) => t.pixels),
            SIZE,
            oodFeatureLayers(detector),
          ),
        );
        scored.forEach((fields, i) => {
          expect(Math.abs(Number(fields[4]) - page.distances[i]) / Math.max(1, page.distances[i])).toBeLessThan(1e-3);
          expect(fields[5]).toBe(page.distances[i] > detector.threshold ? 'yes' : 'no');
          if (ood !== 'last') expect(fields[6]).toBe(fields[5] === 'yes' ? unlikeMostly(unlikeReasonOf(page, i)) : '');
          if (ood === 'detail') expect(Math.abs(Number(fields[7]) / page.detailRatio![i] - 1)).toBeLessThan(1e-3);
          expect(fields).toHaveLength(ood === 'last' ? 6 : ood === 'layers' ? 7 : 8);
        });
        const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
        expect(metrics.outOfDistribution.test).toMatchObject({ images: 8, flagged: countUnlike(page) });
        expect(distanceDifference(model, detector, testTorch)).toBeLessThan(1e-3);
      }
      disposeCnn(model);
    },
    90_000,
  );

  it('trains as the page: the same loss, class weights, BatchNormalization and RMSprop steps (Dropout off)', async () => {
    const zip = join(root, 'step-model.zip');
    const model = await appModelZip('batchnorm', 2, zip);
    // Dropout's masks cannot be the same in both: off for this comparison (its rate is read at each call).
    (model.getLayer('dropout') as unknown as { rate: number }).rate = 0;
    const set = syntheticSet(8, SIZE, 2, 9);
    const labels = Array.from(set.labels);
    const classWeights = [0.8, 1.4];
    const steps = 3;
    const inputs = join(root, 'step-inputs.json');
    writeFileSync(inputs, JSON.stringify({ pixels: Array.from(set.pixels), labels, classWeights, steps }));
    const script = [
      'import json, sys, torch',
      `sys.path.insert(0, ${JSON.stringify(bundleDir)})`,
      IMPORT_MODULES,
      // By name: this script's own `optimizer` and `loss` would hide the modules.
      'from xray_trainer.loss import per_image_cross_entropy',
      'from xray_trainer.optimizer import TfjsRMSprop',
      'model, _ = model_zip.load_app_model(sys.argv[1])',
      'model.dropout.p = 0.0',
      'model.train()',
      'd = json.load(open(sys.argv[2]))',
      `x = torch.tensor(d['pixels'], dtype=torch.float32).view(-1, 1, ${SIZE}, ${SIZE}).mul_(1.0 / 255.0)`,
      "y = torch.tensor(d['labels'])",
      "weight = torch.tensor(d['classWeights'])",
      'optimizer = TfjsRMSprop(model.parameters(), lr=1e-3)',
      'losses = []',
      "for _ in range(d['steps']):",
      '    loss = (per_image_cross_entropy(model(x), y, 2) * weight[y]).mean()',
      '    optimizer.zero_grad()',
      '    loss.backward()',
      '    optimizer.step()',
      '    losses.append(loss.item())',
      'state = model.state_dict()',
      "weights = {n: tfjs_format.to_tfjs(n, state[tfjs_format.torch_key(n)]).flatten().tolist() for n in tfjs_format.tfjs_weight_names('batchnorm')}",
      "print(json.dumps({'losses': losses, 'weights': weights}))",
    ].join('\n');
    const torch = JSON.parse(run(PYTHON, ['-c', script, zip, inputs], bundleDir)) as {
      losses: number[];
      weights: Record<string, number[]>;
    };

    const xs = tf.tidy(
      () => tf.mul(tf.tensor4d(Array.from(set.pixels), [8, SIZE, SIZE, 1], 'float32'), 1 / 255) as tf.Tensor4D,
    );
    const ys = tf.tensor2d(labels, [8, 1], 'float32');
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) losses.push((await weightedTrainStep(model, xs, ys, classWeights)).loss);
    tf.dispose([xs, ys]);
    const lossDifference = maxDifference([losses], [torch.losses]);
    let weightDifference = 0;
    let moved = 0;
    for (const variable of model.weights) {
      const values = Array.from(variable.read().dataSync());
      const theirs = torch.weights[variable.originalName];
      expect(theirs, variable.originalName).toBeDefined();
      weightDifference = Math.max(weightDifference, maxDifference([values], [theirs]));
      moved++;
    }
    expect(moved).toBe(24);
    console.log(
      `${steps} training steps, tfjs vs PyTorch: losses ${losses.map((l) => l.toFixed(5)).join(', ')}; max |difference| loss ${lossDifference.toExponential(2)}, weights ${weightDifference.toExponential(2)}`,
    );
    expect(lossDifference).toBeLessThan(TOLERANCE);
    expect(weightDifference).toBeLessThan(TOLERANCE);
    disposeCnn(model);
  }, 60_000);

  it('fits the out-of-distribution detector as the page: the same means, precision, shrinkage and cut', () => {
    // ReLU-like features (a third are 0, one unit dead), fewer images than twice the features: shrinkage matters.
    const random = mulberry32(5);
    const p = 64;
    const features = (n: number) =>
      Float32Array.from({ length: n * p }, (_, i) => (i % p === 7 ? 0 : Math.max(0, random() * 3 - 1 + (i % 5) * 0.1)));
    const train = features(100);
    const labels = Uint8Array.from({ length: 100 }, (_, i) => i % 2);
    const validation = features(30);
    const page = fitOodDetector({ features: train, labels }, validation, {
      featureSize: p,
      numClasses: 2,
      featureLayer: 'dense_1',
    }).detector;
    const inputs = join(root, 'ood-inputs.json');
    writeFileSync(
      inputs,
      JSON.stringify({ train: Array.from(train), labels: Array.from(labels), validation: Array.from(validation) }),
    );
    const script = [
      'import json, sys',
      'import numpy as np',
      `sys.path.insert(0, ${JSON.stringify(bundleDir)})`,
      IMPORT_MODULES,
      'd = json.load(open(sys.argv[1]))',
      `t = np.array(d['train'], dtype=np.float32).reshape(-1, ${p})`,
      `v = np.array(d['validation'], dtype=np.float32).reshape(-1, ${p})`,
      "print(json.dumps(ood.fit_ood_detector(t, d['labels'], v, 2)))",
    ].join('\n');
    const torch = JSON.parse(run(PYTHON, ['-c', script, inputs], bundleDir)) as PenultimateOodDetector;
    expect(torch.shrinkage).toBeGreaterThan(0);
    expect(Math.abs(torch.shrinkage - page.shrinkage)).toBeLessThan(1e-9);
    expect(maxDifference(torch.classMeans, page.classMeans)).toBeLessThan(1e-9);
    const scale = Math.max(...page.precision.flat().map(Math.abs));
    expect(maxDifference(torch.precision, page.precision) / scale).toBeLessThan(1e-6);
    expect(Math.abs(torch.threshold - page.threshold) / page.threshold).toBeLessThan(1e-6);
    expect(checkOodDetector(torch, { featureSize: p, numClasses: 2 })).toMatchObject({
      trainImages: 100,
      validationImages: 30,
    });
  });

  it("train.py's OOD_LAYERS are the page's (src/model/features.ts)", () => {
    expect(torchOodLayers()).toEqual(PAGE_OOD_LAYERS);
  });

  it("train.py's image-detail member and its `ood` choices are the page's (model/features.ts, imageDetail.ts)", () => {
    const torch = JSON.parse(
      trainPy([
        'print(json.dumps({"detail": ood.IMAGE_DETAIL_LAYER, "choices": ood.OOD_CHOICES, "constants": [',
        '    ood.DETAIL_OCTAVES, ood.MIN_DETAIL_SIZE, ood.DETAIL_EPSILON]}))',
      ]),
    ) as { detail: [string, OodPooling]; choices: Record<string, [string, OodPooling][]>; constants: number[] };
    const pageDetail = OOD_LAYERS_WITH_DETAIL.at(-1)!;
    expect(torch.detail).toEqual([pageDetail.name, pageDetail.pooling]);
    expect(torch.detail).toEqual([IMAGE_DETAIL_LAYER, 'detail-octaves']);
    expect(torch.constants).toEqual([DETAIL_OCTAVES, MIN_DETAIL_SIZE, DETAIL_EPSILON]);
    expect(torch.choices).toEqual({
      detail: PAGE_DETAIL_OOD_LAYERS,
      layers: PAGE_OOD_LAYERS,
      last: [['dense_1', 'none']],
    });
    // Every value of the page's setting, and no other.
    expect(Object.keys(torch.choices).sort()).toEqual([...OOD_LAYER_CHOICES].sort());
  });

  it("computes the image's detail as the page (model/imageDetail.ts): the same 4 numbers an image", () => {
    // Noise, a sawtooth, a flat image (the epsilon) and a sharp edge beside a gentle slope; odd sides (the last row
    // or column dropped at each halving), the smallest size, non-square, and three channels (averaged first). Last,
    // a plane (its Laplacian is 0 but for float32 rounding).
    const random = mulberry32(17);
    const shapes: [number, number, number, number][] = [
      [3, SIZE, SIZE, 1],
      [2, MIN_DETAIL_SIZE, MIN_DETAIL_SIZE, 1],
      [2, 57, 33, 1],
      [2, 31, 45, 3],
      [1, MIN_DETAIL_SIZE, MIN_DETAIL_SIZE, 1],
    ];
    const batches = shapes.map(([n, h, w, c], b) =>
      Array.from({ length: n * h * w * c }, (_, i) => {
        const image = Math.floor(i / (h * w * c));
        const y = Math.floor(i / (w * c)) % h;
        const x = Math.floor(i / c) % w;
        if (b === shapes.length - 1) return (x * 7 + y * 3) / 255;
        if (image === 0) return Math.floor(random() * 256) / 255;
        if (image === 1 && n > 2) return 0.5;
        return image === 1 ? ((x * 29 + y * 13) % 256) / 255 : x > w / 2 ? 0.9 : 0.1 + 0.002 * y;
      }),
    );
    const inputs = join(root, 'detail-inputs.json');
    writeFileSync(inputs, JSON.stringify(batches.map((values, i) => ({ values, shape: shapes[i] }))));
    const script = [
      'out = []',
      'for b in json.load(open(sys.argv[1])):',
      "    x = torch.tensor(b['values'], dtype=torch.float32).view(*b['shape']).permute(0, 3, 1, 2)",
      '    out.append(ood.image_detail(x).tolist())',
      'print(json.dumps(out))',
    ];
    const torch = JSON.parse(trainPy(script, inputs)) as number[][][];
    const pages = batches.map((values, i) => tf.tidy(() => imageDetail(tf.tensor4d(values, shapes[i])).arraySync()));
    pages.forEach((page) => expect(page.map((row) => row.length)).toEqual(page.map(() => DETAIL_OCTAVES)));
    const differences = pages.map((page, i) => maxDifference(torch[i], page));
    console.log(`image detail, PyTorch vs the page: max |difference| ${differences.map((d) => d.toExponential(1))}`);
    for (const difference of differences.slice(0, -1)) expect(difference).toBeLessThan(TOLERANCE);
    // A flat image has no detail: ln(1e-4) at every scale.
    for (const value of torch[0][1]) expect(value).toBeCloseTo(Math.log(DETAIL_EPSILON), 5);
    // A plane: its mean |Laplacian| is float32 rounding (about 1e-8, summed in another order here than in tfjs),
    // which ln(m + 1e-4) magnifies up to 1e4 times: near ln(1e-4) on both sides, agreeing to about 1e-3 only.
    for (const value of [...torch.at(-1)!.flat(), ...pages.at(-1)!.flat()])
      expect(Math.abs(value - Math.log(DETAIL_EPSILON))).toBeLessThan(2e-3);
    expect(differences.at(-1)).toBeLessThan(2e-3);
  });

  it('fits the feature-ensemble detector as the page: the same means, precisions, shrinkages, scales, cut, scores', () => {
    // Three layers of ReLU-like features on different scales (a dead unit, fewer images than twice the features).
    const random = mulberry32(8);
    const layers: OodFeatureLayer[] = [
      { name: 'max_pooling2d_1', size: 6, pooling: 'spatial-mean' },
      { name: 'max_pooling2d_3', size: 9, pooling: 'spatial-mean' },
      { name: 'dense_1', size: 12, pooling: 'none' },
    ];
    const width = 27;
    const features = (n: number, shift = 0) =>
      Float32Array.from({ length: n * width }, (_, i) => {
        const column = i % width;
        const scale = column < 6 ? 0.05 : column < 15 ? 1 : 7;
        return column === 20 ? 0 : Math.max(0, (random() * 3 - 1 + (column % 5) * 0.1 + shift) * scale);
      });
    const train = features(40);
    const labels = Uint8Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const validation = features(15);
    const unseen = features(10, 0.5);
    const inputs = join(root, 'ensemble-inputs.json');
    writeFileSync(
      inputs,
      JSON.stringify({
        train: Array.from(train),
        labels: Array.from(labels),
        validation: Array.from(validation),
        unseen: Array.from(unseen),
        layers: layers.map((l) => [l.name, l.pooling, l.size]),
      }),
    );
    const script = [
      'd = json.load(open(sys.argv[1]))',
      'rows = lambda key: np.array(d[key], dtype=np.float32).reshape(-1, ' + width + ')',
      'out = []',
      // With validation, and without (the scales and the cut then come from the training images).
      "for v in (rows('validation'), rows('validation')[:0]):",
      "    detector = ood.fit_feature_ensemble_detector(rows('train'), d['labels'], v, 2, d['layers'])",
      "    out.append({'detector': detector, 'scores': ood.ood_scores(detector, rows('unseen')).tolist()})",
      'print(json.dumps(out))',
    ];
    const torch = JSON.parse(trainPy(script, inputs)) as {
      detector: FeatureEnsembleOodDetector;
      scores: number[];
    }[];
    const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    [validation, new Float32Array(0)].forEach((validationFeatures, i) => {
      const page = fitFeatureEnsembleDetector({ features: train, labels }, validationFeatures, {
        layers,
        numClasses: 2,
      });
      const { detector, scores } = torch[i];
      expect(detector).toMatchObject({
        method: 'mahalanobis-feature-ensemble',
        quantile: 0.95,
        trainImages: 40,
        validationImages: i === 0 ? 15 : 0,
      });
      expect(detector.layers).toHaveLength(3);
      detector.layers.forEach((layer, l) => {
        const expected = page.detector.layers[l];
        expect([layer.featureLayer, layer.pooling]).toEqual([expected.featureLayer, expected.pooling]);
        expect(layer.shrinkage).toBeGreaterThan(0);
        expect(Math.abs(layer.shrinkage - expected.shrinkage)).toBeLessThan(1e-9);
        const meanScale = Math.max(...expected.classMeans.flat().map(Math.abs));
        expect(maxDifference(layer.classMeans, expected.classMeans) / meanScale).toBeLessThan(1e-6);
        const precisionScale = Math.max(...expected.precision.flat().map(Math.abs));
        expect(maxDifference(layer.precision, expected.precision) / precisionScale).toBeLessThan(1e-6);
        expect(relative(layer.scale, expected.scale)).toBeLessThan(1e-6);
      });
      // The layers' units differ (features 0.05 to 7 apart): the scales are what make them count alike.
      expect(
        Math.max(...detector.layers.map((l) => l.scale)) / Math.min(...detector.layers.map((l) => l.scale)),
      ).not.toBeCloseTo(1, 1);
      expect(relative(detector.threshold, page.detector.threshold)).toBeLessThan(1e-6);
      const pageScores = featureEnsembleScores(page.detector, unseen);
      expect(relativeDifference(scores, pageScores)).toBeLessThan(1e-6);
      expect(scores.map((s) => s > detector.threshold)).toEqual(
        Array.from(pageScores, (s) => s > page.detector.threshold),
      );
      expect(checkOodDetector(detector, { numClasses: 2 })).toMatchObject({ validationImages: i === 0 ? 15 : 0 });
    });
  });

  it('explains a flagged image as the page (oodReasons.ts): the same parts, detail ratios and reasons, in the CSV too', () => {
    // Three layers and, last, the image's detail (logs near -4, a class 0.6 apart), as the page orders them. Rows
    // pushed off on one member each: softer and sharper detail, an early layer, and the second of three layers (later:
    // the detail is not a model layer, so it does not count in the halving), and the last.
    const random = mulberry32(41);
    const layers: OodFeatureLayer[] = [
      { name: 'max_pooling2d_1', size: 3, pooling: 'spatial-mean' },
      { name: 'max_pooling2d_3', size: 4, pooling: 'spatial-mean' },
      { name: 'dense_1', size: 5, pooling: 'none' },
      { name: IMAGE_DETAIL_LAYER, size: DETAIL_OCTAVES, pooling: 'detail-octaves' },
    ];
    const width = layers.reduce((sum, l) => sum + l.size, 0);
    const row = (label: number, member = -1, shift = 0) =>
      layers.flatMap((layer, l) =>
        Array.from({ length: layer.size }, (_, k) => {
          const mean =
            layer.pooling === 'detail-octaves' ? -3 - 0.5 * k + 0.6 * label : (k % 2 ? 0.8 : -0.8) * label + k * 0.3;
          return mean + (random() - 0.5) + (l === member ? shift : 0);
        }),
      );
    const rowsOf = (list: number[][]) => Float32Array.from(list.flat());
    const labels = Uint8Array.from({ length: 60 }, (_, i) => i % 2);
    const train = rowsOf(Array.from(labels, (label) => row(label)));
    const validation = rowsOf(Array.from({ length: 20 }, (_, i) => row(i % 2)));
    const pushed: [number, number][] = [
      [3, -1.5],
      [3, 1.5],
      [0, 3],
      [1, -3],
      [2, 3],
    ];
    const unseen = rowsOf([
      ...Array.from({ length: 10 }, (_, i) => row(i % 2)),
      ...pushed.flatMap(([member, shift]) => [row(0, member, shift), row(1, member, shift)]),
    ]);
    const n = unseen.length / width;
    const ensemble = fitFeatureEnsembleDetector({ features: train, labels }, validation, { layers, numClasses: 2 });
    // Without the detail (the `layers` choice), and the one-layer detector (`last`, dense_1): no reason at all.
    const modelWidth = width - DETAIL_OCTAVES;
    const withoutDetail = fitFeatureEnsembleDetector(
      { features: columnsOf(train, width, 0, modelWidth), labels },
      columnsOf(validation, width, 0, modelWidth),
      { layers: layers.slice(0, -1), numClasses: 2 },
    );
    const dense = (features: Float32Array) => columnsOf(features, width, 7, 5);
    const single = fitOodDetector({ features: dense(train), labels }, dense(validation), {
      featureSize: 5,
      numClasses: 2,
      featureLayer: 'dense_1',
    });
    const cases = [
      { detector: ensemble.detector, features: unseen },
      { detector: withoutDetail.detector, features: columnsOf(unseen, width, 0, modelWidth) },
      { detector: single.detector, features: dense(unseen) },
    ];
    const inputs = join(root, 'ood-reasons-inputs.json');
    writeFileSync(
      inputs,
      JSON.stringify(
        cases.map((c) => ({ detector: c.detector, features: Array.from(c.features), width: c.features.length / n })),
      ),
    );
    const script = [
      'from xray_trainer import report',
      'out = []',
      'for i, c in enumerate(json.load(open(sys.argv[1]))):',
      "    detector = c['detector']",
      "    x = np.array(c['features'], dtype=np.float32).astype(np.float64).reshape(-1, c['width'])",
      '    scores, reasons, ratio = ood.ood_reasons(detector, x)',
      "    ensemble = detector['method'] == ood.OOD_ENSEMBLE_METHOD",
      '    parts = ood.ood_parts(detector, x)[1] if ensemble else np.ones((len(scores), 1))',
      // Every row's reason, flagged or not: more rows to compare.
      '    every = [ood.ood_reason(detector, p, None if ratio is None else ratio[k]) for k, p in enumerate(parts)]',
      "    path = sys.argv[2] + f'-{i}.csv'",
      "    rows = [{'path': f'{k}.png', 'class': 'NORMAL', 'group': None} for k in range(len(scores))]",
      "    report.write_predictions(path, rows, np.zeros((len(scores), 1)), ['NORMAL', 'PNEUMONIA'], scores,",
      "                             detector['threshold'], reasons, ratio)",
      "    out.append({'scores': scores.tolist(), 'parts': parts.tolist() if ensemble else None, 'reasons': reasons,",
      "                'every': every, 'ratio': None if ratio is None else ratio.tolist(), 'csv': open(path).read()})",
      'print(json.dumps(out))',
    ];
    const torch = JSON.parse(trainPy(script, inputs, join(root, 'ood-reasons'))) as {
      scores: number[];
      parts: number[][] | null;
      reasons: (UnlikeReason | null)[] | null;
      every: (UnlikeReason | null)[];
      ratio: number[] | null;
      csv: string;
    }[];
    const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    const words = unlikeMostly;
    const seen = new Set<string>();
    cases.forEach(({ detector, features }, c) => {
      const page = judge(detector, features);
      const { scores, parts, reasons, every, ratio, csv } = torch[c];
      const lines = csv.trim().split('\n');
      expect(lines).toHaveLength(n + 1);
      expect(relativeDifference(scores, page.distances)).toBeLessThan(1e-6);
      const flagged = Array.from(page.distances, (d) => d > detector.threshold);
      expect(scores.map((s) => s > detector.threshold)).toEqual(flagged);
      // At least the rows pushed on a member this detector reads (the one-layer detector: dense_1 only).
      expect(flagged.filter(Boolean).length).toBeGreaterThanOrEqual([10, 6, 2][c]);
      if (detector.method !== 'mahalanobis-feature-ensemble') {
        // The one-layer detector: a score, no parts, so no reason, in Python as on the page.
        expect(reasons).toBeNull();
        expect(ratio).toBeNull();
        expect(every.every((r) => r === null)).toBe(true);
        expect(flagged.every((_, i) => unlikeReasonOf(page, i) === null)).toBe(true);
        expect(lines[0]).toBe('path,class,group,p_PNEUMONIA,ood_distance,unlike_training_data');
        return;
      }
      const detail = detector.layers.some((l) => l.pooling === 'detail-octaves');
      expect(lines[0]).toBe(
        `path,class,group,p_PNEUMONIA,ood_distance,unlike_training_data,unlike_mostly${detail ? ',detail_ratio' : ''}`,
      );
      // The parts, member by member (each the member's distance over its scale).
      expect(parts).toHaveLength(n);
      parts!.forEach((row, i) => {
        expect(row).toHaveLength(detector.layers.length);
        row.forEach((part, l) =>
          expect(relative(part, page.parts![i * detector.layers.length + l])).toBeLessThan(1e-4),
        );
      });
      if (detail) {
        expect(ratio).toHaveLength(n);
        ratio!.forEach((r, i) => expect(relative(r, page.detailRatio![i])).toBeLessThan(1e-4));
      } else {
        expect(ratio).toBeNull();
        expect(page.detailRatio).toBeUndefined();
      }
      every.forEach((reason, i) => {
        const expected = unlikeReasonOf(page, i);
        expect(expected).not.toBeNull();
        expect(reason?.kind).toBe(expected!.kind);
        expect(relative(reason!.share, expected!.share)).toBeLessThan(1e-4);
        if (reason!.kind === 'detail' && expected!.kind === 'detail')
          expect(relative(reason!.ratio, expected!.ratio)).toBeLessThan(1e-4);
        else
          expect(reason).toMatchObject({
            layer: (expected as { layer: string }).layer,
            early: (expected as { early: boolean }).early,
          });
        // Only a flagged image is explained (--predict's unlikeWhy, the CSV's unlike_mostly).
        expect(reasons![i]).toEqual(flagged[i] ? reason : null);
        const fields = lines[i + 1].split(',');
        expect(fields[5]).toBe(flagged[i] ? 'yes' : 'no');
        expect(fields[6]).toBe(flagged[i] ? words(expected) : '');
        if (detail) {
          expect(relative(Number(fields[7]), page.detailRatio![i])).toBeLessThan(6e-4);
          expect(Number(Number(fields[7]).toPrecision(4))).toBe(Number(fields[7]));
        }
        if (flagged[i]) seen.add(`${c} ${words(expected)}`);
      });
      // Each pushed row is explained by the member it was pushed on.
      pushed.forEach(([member, shift], k) => {
        if (!detail && member === 3) return;
        const expected =
          member === 3
            ? shift < 0
              ? 'less-detail'
              : 'more-detail'
            : `${member === 0 ? 'early' : 'later'}-layers:${layers[member].name}`;
        for (const i of [10 + 2 * k, 11 + 2 * k]) {
          expect(flagged[i]).toBe(true);
          expect(words(reasons![i])).toBe(expected);
        }
      });
    });
    // Every kind of reason came up: softer and sharper detail, an early layer, and later ones.
    expect([...seen].sort()).toEqual(
      expect.arrayContaining([
        '0 less-detail',
        '0 more-detail',
        '0 early-layers:max_pooling2d_1',
        '0 later-layers:max_pooling2d_3',
        '0 later-layers:dense_1',
        '1 early-layers:max_pooling2d_1',
        '1 later-layers:max_pooling2d_3',
      ]),
    );
  });

  it('refuses damaged feature-ensemble statistics in words, where the page refuses them', async () => {
    const zip = join(root, 'app-damaged-ood.zip');
    const model = await appModelZip('tutorial', 2, zip);
    const files = await readZip(zip);
    const metadata = JSON.parse(new TextDecoder().decode(files.get('metadata.json'))) as ModelMetadata;
    const good = metadata.outOfDistribution as FeatureEnsembleOodDetector;
    const damaged = (change: (d: FeatureEnsembleOodDetector) => void) => {
      const copy = structuredClone(good);
      change(copy);
      return copy;
    };
    const cases: [FeatureEnsembleOodDetector, string][] = [
      [damaged((d) => (d.layers[1].scale = 0)), 'layer 2: scale is not positive'],
      [damaged((d) => (d.layers[0].featureLayer = 'conv2d_9')), 'layer 1: the model has no layer conv2d_9'],
      [damaged((d) => (d.layers[0].pooling = 'none')), 'layer 1: the model has no flat layer max_pooling2d_1'],
      [damaged((d) => (d.layers[0].featureLayer = '<img src=x>')), 'layer 1: featureLayer is not a layer name'],
      [damaged((d) => (d.layers[0].precision = d.layers[4].precision)), 'layer 1: precision is not 32 x 32'],
      [damaged((d) => (d.layers[2].precision[0][1] += 1)), 'layer 3: precision is not symmetric'],
      [damaged((d) => (d.layers[0].classMeans[0] = d.layers[0].classMeans[0].slice(1))), 'layer 1: classMeans'],
      [damaged((d) => d.layers.push(d.layers[0])), 'a layer is named twice'],
      [damaged((d) => (d.layers = Array.from({ length: 17 }, () => d.layers[0]))), 'not a list of 1 to 16 layers'],
      [damaged((d) => (d.layers = [])), 'not a list of 1 to 16 layers'],
      [damaged((d) => (d.layers[3].shrinkage = 2)), 'layer 4: shrinkage is not between 0 and 1'],
      // The input's detail: read as detail-octaves only, from `image` only, 4 numbers wide.
      [damaged((d) => (d.layers[5].pooling = 'spatial-mean')), 'layer 6: the model has no layer image'],
      [damaged((d) => (d.layers[4].pooling = 'detail-octaves')), 'layer 5: the model has no layer dense_1'],
      [damaged((d) => (d.layers[5].featureLayer = 'input_1')), 'layer 6: the model has no layer input_1'],
      [damaged((d) => (d.layers[5].pooling = 'octaves' as OodPooling)), 'layer 6: pooling is not known'],
      [
        damaged((d) => (d.layers[5].precision = d.layers[5].precision.slice(1).map((row) => row.slice(1)))),
        'layer 6: precision is not 4 x 4',
      ],
      [damaged((d) => (d.method = 'energy' as FeatureEnsembleOodDetector['method'])), "unknown method 'energy'"],
    ];
    const inputs = join(root, 'damaged-ood.json');
    writeFileSync(inputs, JSON.stringify([good, ...cases.map(([d]) => d)]));
    const script = [
      'model, _ = model_zip.load_app_model(sys.argv[1])',
      'out = []',
      'for d in json.load(open(sys.argv[2])):',
      '    try:',
      "        out.append({'method': ood.check_ood_detector(d, model)['method']})",
      '    except SystemExit as e:',
      "        out.append({'refused': str(e)})",
      'print(json.dumps(out))',
    ];
    const [accepted, ...refused] = JSON.parse(trainPy(script, zip, inputs)) as {
      method?: string;
      refused?: string;
    }[];
    expect(accepted).toEqual({ method: 'mahalanobis-feature-ensemble' });
    const expected = { layerSize: layerSizeOf(model), numClasses: 2 };
    cases.forEach(([detector, words], i) => {
      expect(refused[i].refused).toContain(
        "The model's out-of-distribution statistics (outOfDistribution) are damaged",
      );
      expect(refused[i].refused).toContain(words);
      expect(() => checkOodDetector(detector, expected)).toThrow(/are damaged/);
    });
    // And --predict says so, rather than judging with them.
    await writeZip(zip, {
      'model.json': files.get('model.json')!,
      'weights.bin': files.get('weights.bin')!,
      'metadata.json': JSON.stringify({ ...metadata, outOfDistribution: cases[0][0] }),
    });
    expect(refusal(['--predict', zip, '--images', join(dataDir, rows[0].path)])).toContain('scale is not positive');
    disposeCnn(model);
  }, 60_000);

  it('augments as the page: the same maps, sampled as tf.image.transform samples them', () => {
    const aug: AugmentationSettings = {
      ...DEFAULT_SETTINGS.augmentation,
      rotation: 30,
      zoom: 0.3,
      shift: 0.2,
      shear: 20,
      brightness: 0.3,
      horizontalFlip: true,
    };
    const script = [
      'import json, sys, torch',
      `sys.path.insert(0, ${JSON.stringify(bundleDir)})`,
      IMPORT_MODULES,
      'torch.manual_seed(0)',
      'aug = json.loads(sys.argv[1])',
      'x = torch.nn.functional.avg_pool2d(torch.rand(5, 1, 44, 44), 5, 1)',
      'u = torch.rand(5, 8)',
      'u[0] = 0.5',
      'out = augmentation.augment_batch(x, aug, u)',
      'm = augmentation.affine_matrices(u, aug, 40, 40)',
      'print(json.dumps({"x": x.flatten().tolist(), "u": u.tolist(), "out": out.flatten().tolist(), "m": m.tolist()}))',
    ].join('\n');
    const result = JSON.parse(run(PYTHON, ['-c', script, JSON.stringify(aug)], bundleDir)) as {
      x: number[];
      u: number[][];
      out: number[];
      m: number[][];
    };
    // All draws at the middle of their range: no change at all (u = 0.5 is not a flip).
    result.m[0].forEach((v, j) => expect(v).toBeCloseTo([1, 0, 0, 0, 1, 0][j], 12));
    const fromTfjs = tf.tidy(() => {
      const xs = tf.tensor4d(result.x, [5, 40, 40, 1]);
      const moved = tf.image.transform(xs, tf.tensor2d(result.m.map((row) => [...row, 0, 0])), 'bilinear', 'nearest');
      const factors = tf.tensor4d(
        result.u.map((row) => 1 + (row[7] * 2 - 1) * aug.brightness),
        [5, 1, 1, 1],
      );
      return Array.from(tf.clipByValue(tf.mul(moved, factors), 0, 1).dataSync());
    });
    expect(maxDifference([fromTfjs], [result.out])).toBeLessThan(TOLERANCE);
    expect(maxDifference([result.out.slice(0, 1600)], [result.x.slice(0, 1600)])).toBeLessThan(1e-6);
  }, 60_000);

  it('crops as the page: the framing window (core/framing.ts) folded into the same map, draw for draw', () => {
    const aug: AugmentationSettings = { ...DEFAULT_SETTINGS.augmentation, rotation: 20, shift: 0.1, crop: 0.4 };
    const script = [
      'import json, sys, torch',
      `sys.path.insert(0, ${JSON.stringify(bundleDir)})`,
      IMPORT_MODULES,
      'torch.manual_seed(3)',
      'aug = json.loads(sys.argv[1])',
      'u = torch.rand(6, 8)',
      'f = torch.rand(6, 4)',
      'f[:, 0] = torch.tensor([0.1, 0.9, 0.3, 0.7, 0.49, 0.5])',
      'plain = augmentation.affine_matrices(u, aug, 30, 20)',
      'cropped = augmentation.affine_matrices(u, aug, 30, 20, f)',
      'print(json.dumps({"f": f.tolist(), "plain": plain.tolist(), "cropped": cropped.tolist()}))',
    ].join('\n');
    const result = JSON.parse(run(PYTHON, ['-c', script, JSON.stringify(aug)], bundleDir)) as {
      f: number[][];
      plain: number[][];
      cropped: number[][];
    };
    result.f.forEach((draws, i) => {
      let k = 0;
      const window = framingParams(aug, 30, 20, () => draws[k++]);
      expect(window.scale < 1).toBe(draws[0] < 0.5);
      const [a0, a1, a2, b0, b1, b2] = result.plain[i];
      // The window after Keras' map: s (q - c) + c + o, c the centre (14.5, 9.5).
      const expected = [
        window.scale * a0,
        window.scale * a1,
        window.scale * (a2 - 14.5) + 14.5 + window.offsetX,
        window.scale * b0,
        window.scale * b1,
        window.scale * (b2 - 9.5) + 9.5 + window.offsetY,
      ];
      result.cropped[i].forEach((v, j) => expect(v).toBeCloseTo(expected[j], 9));
    });
  }, 60_000);

  it('changes contrast, gamma and blur as the page (augment.ts), draw for draw', () => {
    const aug = { contrast: 0.4, gamma: 0.5, blur: 1.2, noise: 0 };
    const script = [
      'import json, sys, torch',
      `sys.path.insert(0, ${JSON.stringify(bundleDir)})`,
      IMPORT_MODULES,
      'torch.manual_seed(1)',
      'x = torch.rand(3, 1, 9, 9)',
      'u = torch.rand(3, 5)',
      'out = augmentation.acquisition_batch(x, json.loads(sys.argv[1]), u)',
      'print(json.dumps({"x": x.flatten().tolist(), "u": u.tolist(), "out": out.flatten().tolist()}))',
    ].join('\n');
    const result = JSON.parse(run(PYTHON, ['-c', script, JSON.stringify(aug)], bundleDir)) as {
      x: number[];
      u: number[][];
      out: number[];
    };
    // The page's arithmetic written out plainly, image by image: blur (mirrored edges), contrast, gamma, clip.
    const size = 9;
    const radius = Math.ceil(3 * aug.blur);
    const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * aug.blur ** 2)));
    const total = taps.reduce((a, b) => a + b, 0);
    const mirror = (i: number) => (i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i);
    const expected = result.u.flatMap((u, n) => {
      const image = result.x.slice(n * size * size, (n + 1) * size * size);
      const along = (img: number[], dx: number, dy: number) =>
        img.map((_, p) => {
          const [x, y] = [p % size, Math.floor(p / size)];
          return taps.reduce(
            (sum, t, k) =>
              sum + (t / total) * img[mirror(y + dy * (k - radius)) * size + mirror(x + dx * (k - radius))],
            0,
          );
        });
      const blurred = along(along(image, 0, 1), 1, 0);
      const mixed = image.map((v, p) => v + (blurred[p] - v) * u[2]);
      const mean = mixed.reduce((a, b) => a + b, 0) / mixed.length;
      const factor = 1 + (u[0] * 2 - 1) * aug.contrast;
      const power = (1 + aug.gamma) ** (u[1] * 2 - 1);
      return mixed.map((v) => Math.min(1, Math.max(0, Math.min(1, Math.max(0, (v - mean) * factor + mean)) ** power)));
    });
    expect(maxDifference([expected], [result.out])).toBeLessThan(TOLERANCE);
  }, 60_000);

  it('smooths labels, mixes images and decays kernels as the page (recipe.ts)', () => {
    const script = [
      'import json, sys, torch',
      `sys.path.insert(0, ${JSON.stringify(bundleDir)})`,
      IMPORT_MODULES,
      'g = torch.Generator().manual_seed(3)',
      'x = torch.rand(4, 1, 5, 5)',
      'labels = torch.tensor([0, 1, 1, 0])',
      'w = torch.tensor([1.0, 3.0])',
      'sx, st, sw = loss.regularised_batch(x, labels, 2, w, {"labelSmoothing": 0.1}, g)',
      'mx, mt, mw = loss.regularised_batch(x, labels, 2, w, {"mixup": 0.4}, g)',
      'p = torch.rand(4, 1)',
      'hard = loss.soft_cross_entropy(p, labels.float()) - loss.per_image_cross_entropy(p, labels, 2)',
      'beta = loss.beta_draws(4000, 1.0, g)',
      'm = torch.nn.Linear(3, 2)',
      'before = m.weight.detach().clone()',
      'optimizer.decay_kernels(m, 0.01, 5)',
      'print(json.dumps({"st": st.tolist(), "sw": sw.tolist(), "same": bool(torch.equal(sx, x)),',
      '  "x": x.flatten(1).tolist(), "mx": mx.flatten(1).tolist(), "mt": mt.tolist(), "mw": mw.tolist(),',
      '  "hard": hard.abs().max().item(), "beta": [beta.min().item(), beta.max().item(), beta.mean().item()],',
      '  "ratio": (m.weight / before).flatten().tolist()}))',
    ].join('\n');
    const r = JSON.parse(run(PYTHON, ['-c', script], bundleDir)) as {
      st: number[];
      sw: number[];
      same: boolean;
      x: number[][];
      mx: number[][];
      mt: number[];
      mw: number[];
      hard: number;
      beta: number[];
      ratio: number[];
    };
    expect(r.st.map((v) => Number(v.toFixed(6)))).toEqual([0.05, 0.95, 0.95, 0.05]);
    expect(r.sw).toEqual([1, 3, 3, 1]);
    expect(r.same).toBe(true);
    // Mixup: each image leads its blend with its partner (n-1-i); targets and weights blend at the same share.
    const label = [0, 1, 1, 0];
    const weight = [1, 3, 3, 1];
    r.mx.forEach((row, i) => {
      const j = 3 - i;
      const share = (row[0] - r.x[j][0]) / (r.x[i][0] - r.x[j][0]);
      expect(share).toBeGreaterThanOrEqual(0.5 - 1e-4);
      expect(share).toBeLessThanOrEqual(1 + 1e-4);
      row.forEach((v, k) => expect(v).toBeCloseTo(share * r.x[i][k] + (1 - share) * r.x[j][k], 4));
      expect(r.mt[i]).toBeCloseTo(share * label[i] + (1 - share) * label[j], 4);
      expect(r.mw[i]).toBeCloseTo(share * weight[i] + (1 - share) * weight[j], 4);
    });
    expect(r.hard).toBeLessThan(1e-6);
    expect(r.beta[0]).toBeGreaterThanOrEqual(0);
    expect(r.beta[1]).toBeLessThanOrEqual(1);
    expect(r.beta[2]).toBeCloseTo(0.5, 1);
    r.ratio.forEach((v) => expect(v).toBeCloseTo(0.95, 5));
  }, 60_000);

  it("restarts a cosine each snapshot cycle: the page's learningRateAt over each cycle's own steps", () => {
    // 7 epochs of 3 steps in 3 cycles: epochs [0, 2), [2, 4), [4, 7); schedule constant (cycles are cosine anyway).
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(bundleDir)})`,
      IMPORT_MODULES,
      "s = {'learningRate': 0.01, 'learningRateSchedule': 'constant', 'epochs': 7}",
      'cycles = schedule.snapshot_cycles(7, 3)',
      'rates = [schedule.rate_of_step(s, cycles, e, 3)(e * 3 + i) for e in range(7) for i in range(3)]',
      'print(json.dumps({"cycles": cycles, "rates": rates}))',
    ].join('\n');
    const { cycles, rates } = JSON.parse(run(PYTHON, ['-c', script], bundleDir)) as {
      cycles: number[][];
      rates: number[];
    };
    expect(cycles).toEqual([
      [0, 2],
      [2, 4],
      [4, 7],
    ]);
    const expected = cycles.flatMap(([start, end]) =>
      Array.from({ length: (end - start) * 3 }, (_, step) => learningRateAt('cosine', 0.01, step, (end - start) * 3)),
    );
    expect(maxDifference([rates], [expected])).toBeLessThan(1e-15);
  }, 60_000);

  it('schedules the learning rate as the page: constant, or cosine over the run', () => {
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(bundleDir)})`,
      IMPORT_MODULES,
      'print(json.dumps([[schedule.learning_rate_at(s, 0.01, step, 12) for step in range(14)] for s in ("constant", "cosine")]))',
    ].join('\n');
    const [constant, cosine] = JSON.parse(run(PYTHON, ['-c', script], bundleDir)) as number[][];
    constant.forEach((rate, step) => expect(rate).toBe(learningRateAt('constant', 0.01, step, 12)));
    cosine.forEach((rate, step) => expect(rate).toBeCloseTo(learningRateAt('cosine', 0.01, step, 12), 15));
  }, 60_000);
});
