/**
 * What the ONNX export's test files share: metadata and models to convert, onnxruntime-web to run the .onnx file,
 * comparisons of its outputs and features with tfjs' and the page's judgement, and Python onnx's full check.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ModelMetadata, ModelName, OodDetector, OodJudgement } from '../core/types';
import { exportLayersModel } from '../model/layersFormat';
import { layersModelToOnnx, ONNX_FEATURES, ONNX_INPUT, ONNX_OUTPUT } from './onnx';
import { judge } from '../eval/outOfDistribution';
import { decodeModel } from './onnxProto';

export const ENSEMBLE = { kind: 'snapshot' as const, members: 3 };

export const PYTHON = '/usr/bin/python3';
export const pythonHasOnnx = spawnSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
const hasNumpy = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

let tempDir = '';

/** A file's path in the test file's temporary folder (useOnnxTestSetup makes it). */
export function tempPath(name: string): string {
  return join(tempDir, name);
}

/** Each ONNX test file's setup: tfjs on cpu, onnxruntime-web on one thread, a temporary folder removed at the end. */
export function useOnnxTestSetup(): void {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    ort.env.wasm.numThreads = 1;
    tempDir = mkdtempSync(join(tmpdir(), 'onnx-export-'));
  });
  afterAll(() => rmSync(tempDir, { recursive: true, force: true }));
}

export function metadataFor(model: ModelName, classNames: string[], imageSize: number): ModelMetadata {
  const binary = classNames.length === 2;
  return {
    model,
    classNames,
    imageSize,
    channels: 1,
    normalisation: 'grey, pixel / 255 (0..1)',
    output: binary ? 'sigmoid' : 'softmax',
    positiveClass: binary ? classNames[1] : null,
    threshold: binary ? 0.4375 : null,
    thresholdClass: binary ? classNames[1] : null,
    thresholdRule: binary ? 'youden' : null,
    resize: 'bilinear, squashed',
    trainedEpochs: 3,
    backend: 'cpu',
    createdAt: '2025-01-02T03:04:05.000Z',
  };
}

/**
 * Gives every weight a value a mistake would show in: biases and BatchNormalization's gamma, beta and moving
 * statistics away from their initial 0s and 1s, and the seeded Glorot kernels 1.5 times larger, so that the
 * outputs spread out between images rather than all sit near 0.5.
 */
export function perturbWeights(model: tf.LayersModel, seed: number): void {
  for (const layer of model.layers) {
    const weights = layer.weights.map((w, i) => {
      const shape = w.shape as number[];
      const s = seed * 100 + i;
      if (w.name.endsWith('gamma')) return tf.randomUniform(shape, 0.5, 1.5, 'float32', s);
      if (w.name.endsWith('moving_variance')) return tf.randomUniform(shape, 0.2, 2, 'float32', s);
      if (/(beta|bias|moving_mean)$/.test(w.name)) return tf.randomUniform(shape, -0.3, 0.3, 'float32', s);
      return tf.mul(w.read(), 1.5);
    });
    if (weights.length > 0) layer.setWeights(weights);
    tf.dispose(weights);
  }
}

/** Runs the .onnx bytes in onnxruntime-web (wasm, in Node) on NHWC images; returns the output and its dims. */
async function runOnnx(
  bytes: Uint8Array,
  images: Float32Array,
  shape: number[],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    expect(session.inputNames).toEqual([ONNX_INPUT]);
    expect(session.outputNames).toEqual([ONNX_OUTPUT]);
    const result = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', images, shape) });
    const output = result[ONNX_OUTPUT];
    return { data: output.data as Float32Array, dims: output.dims };
  } finally {
    await session.release();
  }
}

export async function compare(
  model: tf.LayersModel,
  metadata: ModelMetadata,
  count = 4,
): Promise<{ bytes: Uint8Array; maxDiff: number; spread: number }> {
  const { modelJson, weights } = await exportLayersModel(model);
  const bytes = layersModelToOnnx(modelJson, weights, metadata);
  const size = metadata.imageSize;
  // Each image with its own exposure and contrast, so that a normalisation step is exercised.
  const x = tf.tidy(() =>
    tf.add(
      tf.mul(
        tf.randomUniform([count, size, size, 1], 0, 1, 'float32', 11),
        tf.linspace(1, 0.3, count).reshape([count, 1, 1, 1]),
      ),
      tf.linspace(0, 0.4, count).reshape([count, 1, 1, 1]),
    ),
  );
  const expected = (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
  const images = x.dataSync() as Float32Array;
  const { data, dims } = await runOnnx(bytes, images.slice(), [count, size, size, 1]);
  tf.dispose(x);
  expect(dims).toEqual([count, metadata.output === 'sigmoid' ? 1 : metadata.classNames.length]);
  const maxDiff = Math.max(...Array.from(expected, (v, i) => Math.abs(v - data[i])));
  const spread = Math.max(...expected) - Math.min(...expected);
  return { bytes, maxDiff, spread };
}

/** The graph's declared outputs. */
export function outputsOf(bytes: Uint8Array) {
  return decodeModel(bytes).graph.output;
}

/** Runs the .onnx bytes with both outputs; returns `features`, checked to be [images, width]. */
export async function onnxFeatures(bytes: Uint8Array, x: tf.Tensor4D, width: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    expect(session.outputNames).toEqual([ONNX_OUTPUT, ONNX_FEATURES]);
    const images = (x.dataSync() as Float32Array).slice();
    const result = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', images, x.shape) });
    expect(result[ONNX_FEATURES].dims).toEqual([x.shape[0], width]);
    return result[ONNX_FEATURES].data as Float32Array;
  } finally {
    await session.release();
  }
}

/** The runtime's features are the page's, the judgement from them the same, and the statistics in metadata_props. */
export function expectSameFeaturesAndJudgement(
  bytes: Uint8Array,
  detector: OodDetector,
  expected: Float32Array,
  got: Float32Array,
): void {
  const props = decodeModel(bytes).metadataProps.find((p) => p.key === 'out_of_distribution');
  expect(JSON.parse(props!.value)).toEqual(detector);
  expect(got.length).toBe(expected.length);
  const diff = Math.max(...Array.from(expected, (v, i) => Math.abs(v - got[i])));
  expect(diff, `max |ONNX - tfjs| = ${diff}`).toBeLessThan(1e-4);
  const fromOnnx = judge(detector, got);
  const fromPage = judge(detector, expected);
  fromOnnx.distances.forEach((d, i) =>
    expect(Math.abs(d - fromPage.distances[i]) / Math.max(1, fromPage.distances[i])).toBeLessThan(1e-3),
  );
  const unlike = (j: OodJudgement) => Array.from(j.distances, (d) => d > j.threshold);
  expect(unlike(fromOnnx)).toEqual(unlike(fromPage));
  // The documented Python scoring, on the runtime's features, gives the page's scores.
  if (hasNumpy)
    docScores(detector, got, got.length / fromPage.distances.length).forEach((d, i) =>
      expect(Math.abs(d - fromPage.distances[i]) / Math.max(1, fromPage.distances[i])).toBeLessThan(1e-3),
    );
}

/** docs/out-of-distribution.md's Python `ood_scores`, as the page shows it, run on `features` (rows of `width`). */
function docScores(ood: OodDetector, features: Float32Array, width: number): number[] {
  const doc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../docs/out-of-distribution.md'), 'utf8');
  const block = [...doc.matchAll(/```python\n([\s\S]*?)```/g)].find((m) => m[1].includes('def ood_scores('));
  expect(block, 'the python block that defines ood_scores').toBeDefined();
  const input = tempPath('doc-scores.json');
  const rows = Array.from({ length: features.length / width }, (_, i) => [
    ...features.subarray(i * width, (i + 1) * width),
  ]);
  writeFileSync(input, JSON.stringify({ ood, features: rows }));
  const script = `${block![1]}\nimport json, sys\nd = json.load(open(sys.argv[1]))\nprint(json.dumps(ood_scores(d['ood'], d['features']).tolist()))`;
  const run = spawnSync(PYTHON, ['-c', script, input], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as number[];
}

/** With Python's onnx: the file passes the full check and declares both outputs. */
export function expectValidWithBothOutputs(bytes: Uint8Array, file: string): void {
  if (!pythonHasOnnx) return;
  const path = tempPath(file);
  writeFileSync(path, bytes);
  const check = [
    'import sys, json, onnx',
    'm = onnx.load(sys.argv[1])',
    'onnx.checker.check_model(m, full_check=True)',
    'props = {p.key: p.value for p in m.metadata_props}',
    'print(json.dumps({"outputs": [o.name for o in m.graph.output], "ood": json.loads(props["out_of_distribution"])}))',
  ].join('\n');
  // The statistics of a stacked ensemble print as megabytes of JSON.
  const run = spawnSync(PYTHON, ['-c', check, path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(run.stderr).toBe('');
  const result = JSON.parse(run.stdout) as { outputs: string[]; ood: unknown };
  expect(result.outputs).toEqual([ONNX_OUTPUT, ONNX_FEATURES]);
  const props = decodeModel(bytes).metadataProps.find((p) => p.key === 'out_of_distribution');
  expect(result.ood).toEqual(JSON.parse(props!.value));
}
