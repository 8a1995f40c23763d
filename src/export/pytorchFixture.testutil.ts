/**
 * The PyTorch bundle's test fixture, shared by the src/export/pytorch*.test.ts files (each runs it in its own folder):
 * the machine's PyTorch (/usr/bin/python3 with torch, numpy and Pillow; the tests skip without them), a small generated
 * dataset of PNGs and JPEGs, the bundle the page downloads for it, and ways to run train.py, its modules and torchrun.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TextReader, Uint8ArrayReader, Uint8ArrayWriter, ZipReader, ZipWriter } from '@zip.js/zip.js';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, expect } from 'vitest';
import { DEFAULT_SETTINGS } from '../core/settings';
import type { Settings, SplitName } from '../core/types';
import type { UnlikeReason } from '../eval/oodReasons';
import { syntheticSet } from '../model/testImages.testutil';
import { pytorchBundleFiles, type ManifestRow } from './pytorchBundle';
import { spawnPythonSync, startPythonForkServer, stopPythonForkServer } from './pythonForkServer.testutil';

export const PYTHON = '/usr/bin/python3';
const TORCHRUN = '/usr/bin/torchrun';
// Found, not imported: an import of torch takes a second, each test file asks, and the fork server imports it anyway
// (a torch that is found but does not import fails the tests rather than skipping them).
const FIND_MODULES = 'import importlib.util as u, sys; sys.exit(0 if all(map(u.find_spec, sys.argv[1:])) else 1)';
export const hasTorch =
  existsSync(PYTHON) &&
  existsSync(TORCHRUN) &&
  spawnSync(PYTHON, ['-c', FIND_MODULES, 'torch', 'numpy', 'PIL'], { stdio: 'ignore' }).status === 0;

export const SIZE = 40;

export const CLASSES = ['NORMAL', 'PNEUMONIA'];
export const TOLERANCE = 1e-4;
// One thread a process: the machine's cores are shared.
const ENV = { ...process.env, OMP_NUM_THREADS: '1' };

/** The bundle's folders while a test file runs (useBundle makes them). */
export interface BundlePaths {
  /** A temporary folder for everything below and the tests' own files. */
  root: string;
  /** The generated dataset, laid out as the archive (chest_xray/<split>/<CLASS>/<file>). */
  dataDir: string;
  /** The bundle as the page downloads it: train.py, xray_trainer/, settings.json, manifest.csv. */
  bundleDir: string;
}

const paths: BundlePaths = { root: '', dataDir: '', bundleDir: '' };

/** The folders of the bundle set up for this test file. */
export function bundlePaths(): Readonly<BundlePaths> {
  return paths;
}

export const rows: ManifestRow[] = [];
/** What each image file should decode to where that is exact (40 px PNGs): the grey pixels. */
export const exactPixels = new Map<string, Uint8Array>();

export function run(command: string, args: string[], cwd: string, timeout = 110_000): string {
  const result =
    command === PYTHON
      ? spawnPythonSync(PYTHON, args, { cwd, env: ENV, timeout })
      : spawnSync(command, args, { cwd, env: ENV, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout?.slice(-3000)}\n${result.stderr?.slice(-3000)}`,
    );
  }
  return result.stdout;
}

export interface TorchPrediction {
  path: string;
  probabilities: number[];
  pixels: number[];
  oodDistance?: number;
  unlikeTrainingData?: boolean;
  /** Why a flagged image is, by a feature ensemble (ood_reason: the page's UnlikeReason). */
  unlikeWhy?: UnlikeReason;
}

export function torchPredict(modelZip: string, images: string[]): TorchPrediction[] {
  const out = run(PYTHON, ['train.py', '--predict', modelZip, '--with-pixels', '--images', ...images], paths.bundleDir);
  return (JSON.parse(out) as { images: TorchPrediction[] }).images;
}

/** Python: the bundle's modules the tests call (train.py beside them is the entry point: options and main). */
export const IMPORT_MODULES =
  'from xray_trainer import augmentation, ensemble, loss, model_zip, network, ood, ood_check, optimizer, schedule, ' +
  'tfjs_format';

/** Runs Python `lines` with json, sys, numpy (np), torch and the bundle's modules imported; its output. */
export function trainPy(lines: string[], ...args: string[]): string {
  const head = [
    'import json, sys',
    'import numpy as np',
    'import torch',
    `sys.path.insert(0, ${JSON.stringify(paths.bundleDir)})`,
  ];
  return run(PYTHON, ['-c', [...head, IMPORT_MODULES, ...lines].join('\n'), ...args], paths.bundleDir);
}

/** Python lines: `model`, the model.zip of argv[1]; `x`, its input from the grey pixels (0..255, JSON) of argv[2]. */
export const MODEL_AND_PIXELS = () => [
  'model, _ = model_zip.load_app_model(sys.argv[1])',
  `x = torch.tensor(json.load(open(sys.argv[2])), dtype=torch.float32).view(-1, 1, ${SIZE}, ${SIZE}) / 255`,
];

export async function readZip(path: string): Promise<Map<string, Uint8Array>> {
  const reader = new ZipReader(new Uint8ArrayReader(new Uint8Array(readFileSync(path))), { useWebWorkers: false });
  const files = new Map<string, Uint8Array>();
  for (const entry of await reader.getEntries()) {
    if (!entry.directory) files.set(entry.filename, await entry.getData!(new Uint8ArrayWriter()));
  }
  await reader.close();
  return files;
}

export async function writeZip(path: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false });
  for (const [name, content] of Object.entries(files)) {
    await writer.add(name, typeof content === 'string' ? new TextReader(content) : new Uint8ArrayReader(content));
  }
  writeFileSync(path, await writer.close());
}

/** A model.zip's model in tfjs, as a person would load it (model.json + weights.bin). */
export async function loadZipInTfjs(files: Map<string, Uint8Array>): Promise<tf.LayersModel> {
  const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as tf.io.ModelJSON;
  const weights = files.get(json.weightsManifest[0].paths[0])!;
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async () => [
    json.weightsManifest[0].weights,
    weights.slice().buffer as ArrayBuffer,
  ]);
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

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
    mkdirSync(dirname(join(paths.dataDir, path)), { recursive: true });
    writeFileSync(join(paths.dataDir, path), bytes);
    rows.push({ path, split, className: CLASSES[label], group: k === 5 ? null : `person${Math.floor(k / 2)}` });
  }
}

export const settings: Settings = {
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

/** train.py under torchrun, 2 processes on this machine; its output. */
export function torchrunTwo(args: string[]): string {
  // --standalone: a free local port for the rendezvous. --redirects/--tee: PyTorch 1.13's torchrun fails without
  // them on Python 3.11 ('NoneType' object has no attribute 'get'); harmless elsewhere.
  const options = ['--standalone', '--redirects', '1', '--tee', '1', '--nproc_per_node=2'];
  return run(TORCHRUN, [...options, 'train.py', ...args], paths.bundleDir);
}

/** train.py's words when it refuses a run (it must exit with an error and write nothing). */
export function refusal(args: string[]): string {
  const result = spawnPythonSync(PYTHON, ['train.py', ...args], { cwd: paths.bundleDir, env: ENV });
  expect(result.status).not.toBe(0);
  return result.stderr;
}

/** Writes the generated dataset and the bundle the page would download for it into a new temporary folder. */
async function setUpBundle(): Promise<void> {
  await tf.setBackend('cpu');
  paths.root = mkdtempSync(join(tmpdir(), 'pytorch-bundle-'));
  paths.dataDir = join(paths.root, 'data');
  paths.bundleDir = join(paths.root, 'bundle');
  mkdirSync(paths.bundleDir, { recursive: true });
  writeDataset();
  for (const file of pytorchBundleFiles({ settings, classNames: CLASSES, rows })) {
    mkdirSync(dirname(join(paths.bundleDir, file.name)), { recursive: true });
    writeFileSync(join(paths.bundleDir, file.name), file.text);
  }
}

/**
 * The bundle for the suite it is called in: set up before its tests, removed after them. Its folders, filled in by the
 * time a test runs.
 */
export function useBundle(): Readonly<BundlePaths> {
  beforeAll(async () => {
    await setUpBundle();
    if (hasTorch) await startPythonForkServer(PYTHON, ENV);
  });
  afterAll(() => {
    stopPythonForkServer();
    if (paths.root) rmSync(paths.root, { recursive: true, force: true });
  });
  return paths;
}
