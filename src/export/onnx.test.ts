import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  IntensityNormalisation,
  ModelMetadata,
  ModelName,
  OodDetector,
  OodJudgement,
  OodPooling,
} from '../core/types';
import { disposeCnn } from '../model/cnn';
import { exportLayersModel } from '../model/layersFormat';
import { buildModel } from '../model/models';
import {
  layersModelToOnnx,
  ONNX_FEATURES,
  ONNX_INPUT,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  ONNX_OUTPUT,
  ONNX_PRODUCER,
  metadataProps,
} from './onnx';
import { INPUT_DECODING } from '../core/inputDecoding';
import { featuresAndOutputs, OOD_LAYERS_WITH_DETAIL } from '../model/features';
import { fitOodDetector, judge } from '../eval/outOfDistribution';
import { fitFeatureEnsembleDetector } from '../eval/featureEnsemble';
import { decodeModel } from './onnxProto';
import { pooledFeatures, stackedOf } from '../model/exportChecks.testutil';

const ENSEMBLE = { kind: 'snapshot' as const, members: 3 };

const PYTHON = '/usr/bin/python3';
const pythonHasOnnx = spawnSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
const hasNumpy = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

beforeAll(async () => {
  await tf.setBackend('cpu');
  ort.env.wasm.numThreads = 1;
});

function metadataFor(model: ModelName, classNames: string[], imageSize: number): ModelMetadata {
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
function perturbWeights(model: tf.LayersModel, seed: number): void {
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

async function compare(
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

const tempDir = mkdtempSync(join(tmpdir(), 'onnx-export-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

/** The graph's declared outputs. */
function outputsOf(bytes: Uint8Array) {
  return decodeModel(bytes).graph.output;
}

/** Runs the .onnx bytes with both outputs; returns `features`, checked to be [images, width]. */
async function onnxFeatures(bytes: Uint8Array, x: tf.Tensor4D, width: number): Promise<Float32Array> {
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
function expectSameFeaturesAndJudgement(
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
  const input = join(tempDir, 'doc-scores.json');
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
function expectValidWithBothOutputs(bytes: Uint8Array, file: string): void {
  if (!pythonHasOnnx) return;
  const path = join(tempDir, file);
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

describe('layersModelToOnnx', () => {
  // At 48 and 64 px the last feature map is 2x2 and 3x3, so Flatten's NHWC order matters.
  const cases: [ModelName, number, number, IntensityNormalisation][] = [
    ['tutorial', 2, 64, 'none'],
    ['tutorial', 3, 48, 'none'],
    ['batchnorm', 2, 64, 'none'],
    ['batchnorm', 3, 48, 'none'],
    ['tutorial', 3, 48, 'per-image'],
    ['batchnorm', 2, 64, 'per-image'],
  ];
  it.each(cases)(
    'converts %s with %i classes at %i px (intensity normalisation %s) to a model onnxruntime runs to the same probabilities',
    async (name, classes, size, intensityNormalisation) => {
      const model = buildModel(name, {
        imageSize: size,
        numClasses: classes,
        learningRate: 1e-3,
        seed: 5,
        intensityNormalisation,
      });
      perturbWeights(model, 3);
      const classNames = ['NORMAL', 'PNEUMONIA', 'VIRUS'].slice(0, classes);
      const { maxDiff, spread } = await compare(model, metadataFor(name, classNames, size));
      disposeCnn(model);
      expect(spread).toBeGreaterThan(0.01); // Outputs that differ between images (none saturated), so the check means something.
      expect(maxDiff).toBeLessThan(1e-4);
    },
  );

  it.each<[ModelName, IntensityNormalisation]>([
    ['tutorial', 'per-image'],
    ['batchnorm', 'none'],
  ])(
    'converts a snapshot ensemble of 3 %s models (normalisation %s) to the same averaged probability',
    async (name, intensityNormalisation) => {
      const options = { imageSize: 48, numClasses: 2, learningRate: 1e-3, intensityNormalisation };
      const model = stackedOf(name, options, 3, (k) => {
        const member = buildModel(name, { ...options, seed: k + 1 });
        perturbWeights(member, k + 1);
        return member;
      });
      const metadata = { ...metadataFor(name, ['NORMAL', 'PNEUMONIA'], 48), ensemble: ENSEMBLE };
      const { bytes, maxDiff, spread } = await compare(model, metadata);
      disposeCnn(model);
      expect(spread).toBeGreaterThan(0.01);
      expect(maxDiff).toBeLessThan(1e-4);
      const props = decodeModel(bytes).metadataProps.find((p) => p.key === 'ensemble');
      expect(JSON.parse(props!.value)).toEqual(ENSEMBLE);
    },
  );

  it("gives dense_1's features as a second output when the metadata has out-of-distribution statistics", async () => {
    const model = buildModel('batchnorm', { imageSize: 40, numClasses: 2, learningRate: 1e-3, seed: 5 });
    perturbWeights(model, 3);
    const x = tf.randomUniform([30, 40, 40, 1], 0, 1, 'float32', 12);
    const both = featuresAndOutputs(model, [{ name: 'dense_1', pooling: 'none' }], x);
    const expected = both.features.dataSync() as Float32Array;
    const { detector } = fitOodDetector(
      { features: expected.subarray(0, 20 * 64), labels: new Uint8Array(20).map((_, i) => i % 2) },
      expected.subarray(20 * 64),
      {
        featureSize: 64,
        numClasses: 2,
        featureLayer: 'dense_1',
      },
    );
    const { modelJson, weights } = await exportLayersModel(model);
    const bytes = layersModelToOnnx(modelJson, weights, {
      ...metadataFor('batchnorm', ['NORMAL', 'PNEUMONIA'], 40),
      outOfDistribution: detector,
    });
    const got = await onnxFeatures(bytes, x as tf.Tensor4D, 64);
    expectSameFeaturesAndJudgement(bytes, detector, expected, got);
    expect(outputsOf(bytes)[1].docString).toBe(
      'dense_1 as it is (64): what metadata_props out_of_distribution judges.',
    );
    expectValidWithBothOutputs(bytes, 'with-features.onnx');
    tf.dispose([x, both.features, both.outputs]);
    disposeCnn(model);
  });

  it.each<[ModelName, number, IntensityNormalisation]>([
    ['batchnorm', 1, 'none'],
    ['tutorial', 1, 'per-image'],
    ['batchnorm', 3, 'none'],
  ])(
    "gives a feature ensemble's pooled layers, concatenated, as its features output (%s, %i member(s), %s)",
    async (name, members, intensityNormalisation) => {
      // At 48 px the four blocks' maps are 23, 11, 5 and 2 pixels a side: every mean is over several pixels.
      const options = { imageSize: 48, numClasses: 2, learningRate: 1e-3, intensityNormalisation };
      const build = (seed: number) => {
        const member = buildModel(name, { ...options, seed });
        perturbWeights(member, seed);
        return member;
      };
      const model = members === 1 ? build(5) : stackedOf(name, options, members, (k) => build(k + 1));
      const x = tf.randomUniform([30, 48, 48, 1], 0, 1, 'float32', 12) as tf.Tensor4D;
      // The default detector: the five layers and, last, the input's detail (4 numbers whatever the members).
      const { rows, sizes } = pooledFeatures(model, OOD_LAYERS_WITH_DETAIL, x);
      expect(sizes).toEqual([...[32, 32, 64, 32, 64].map((n) => n * members), 4]);
      const width = 224 * members + 4;
      const layers = OOD_LAYERS_WITH_DETAIL.map((l, i) => ({ ...l, size: sizes[i] }));
      const train = { features: rows.subarray(0, 20 * width), labels: new Uint8Array(20).map((_, i) => i % 2) };
      const { detector } = fitFeatureEnsembleDetector(train, rows.subarray(20 * width), {
        layers,
        numClasses: 2,
      });
      const { modelJson, weights } = await exportLayersModel(model);
      const metadata = metadataFor(name, ['NORMAL', 'PNEUMONIA'], 48);
      const bytes = layersModelToOnnx(modelJson, weights, {
        ...metadata,
        ...(members > 1 ? { ensemble: { kind: 'snapshot' as const, members } } : {}),
        outOfDistribution: detector,
      });
      const got = await onnxFeatures(bytes, x, width);
      expectSameFeaturesAndJudgement(bytes, detector, rows, got);
      const doc = outputsOf(bytes)[1].docString;
      expect(doc).toContain(
        `max_pooling2d_1 averaged over its rows and columns (${32 * members}), ` +
          `max_pooling2d_2 averaged over its rows and columns (${32 * members})`,
      );
      expect(doc).toContain(`dense_1 as it is (${64 * members}), image ln(mean |Laplacian| + 1e-4) of the input`);
      expect(doc).toContain('halved by 2x2 averages (4), concatenated in that order');
      expectValidWithBothOutputs(bytes, `ensemble-${name}-${members}.onnx`);
      tf.dispose(x);
      disposeCnn(model);
    },
  );

  it('reads layers named like the outputs, and the output layer itself, without mixing up tensors', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [16, 16, 1], filters: 3, kernelSize: 3, activation: 'relu', name: 'features' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 5, activation: 'relu', name: 'probabilities' }),
        tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'head' }),
      ],
    });
    perturbWeights(model, 6);
    const read: { name: string; pooling: OodPooling }[] = [
      { name: 'features', pooling: 'spatial-mean' },
      { name: 'probabilities', pooling: 'none' },
      { name: 'head', pooling: 'none' },
    ];
    const x = tf.randomUniform([16, 16, 16, 1], 0, 1, 'float32', 14) as tf.Tensor4D;
    const { rows, sizes } = pooledFeatures(model, read, x);
    const { detector } = fitFeatureEnsembleDetector(
      { features: rows.subarray(0, 10 * 9), labels: new Uint8Array(10).map((_, i) => i % 2) },
      rows.subarray(10 * 9),
      { layers: read.map((l, i) => ({ ...l, size: sizes[i] })), numClasses: 2 },
    );
    const { modelJson, weights } = await exportLayersModel(model);
    const bytes = layersModelToOnnx(modelJson, weights, {
      ...metadataFor('tutorial', ['NORMAL', 'PNEUMONIA'], 16),
      outOfDistribution: detector,
    });
    expectSameFeaturesAndJudgement(bytes, detector, rows, await onnxFeatures(bytes, x, 9));
    tf.dispose(x);
    model.dispose();
  });

  // 'same' padding where TensorFlow pads one pixel more after than before (ONNX's SAME_UPPER), a non-square map, softmax over channels.
  it('converts by the layer list: same padding, strides, dilation, Activation layers, BatchNormalization after Dense, Dense without bias', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [32, 32, 1], filters: 6, kernelSize: 3, strides: 2, padding: 'same' }), // 16x16
        tf.layers.activation({ activation: 'tanh' }),
        tf.layers.conv2d({ filters: 5, kernelSize: [2, 3], dilationRate: 2, activation: 'relu' }), // 14x12
        tf.layers.conv2d({ filters: 4, kernelSize: 2, padding: 'same' }),
        tf.layers.activation({ activation: 'softmax' }),
        tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), // 7x6
        tf.layers.flatten(),
        tf.layers.dense({ units: 7, useBias: false }),
        tf.layers.batchNormalization({ epsilon: 0.01 }),
        tf.layers.reLU(),
        tf.layers.dense({ units: 4, activation: 'softmax' }),
      ],
    });
    perturbWeights(model, 4);
    const { maxDiff, spread } = await compare(model, metadataFor('tutorial', ['a', 'b', 'c', 'd'], 32));
    model.dispose();
    expect(spread).toBeGreaterThan(0.01);
    expect(maxDiff).toBeLessThan(1e-4);
  });
});

describe('metadataProps', () => {
  it('names how the training films were decoded where metadata.json does, and only then', () => {
    const metadata = metadataFor('batchnorm', ['NORMAL', 'PNEUMONIA'], 40);
    const decoding = (m: ModelMetadata) => metadataProps(m).find((p) => p.key === 'input_decoding')?.value;
    expect(decoding({ ...metadata, inputDecoding: INPUT_DECODING })).toBe(INPUT_DECODING);
    expect(decoding(metadata)).toBeUndefined();
  });
});

describe('the .onnx file', () => {
  let bytes: Uint8Array;
  const metadata = metadataFor('batchnorm', ['NORMAL', 'PNEUMONIA'], 40);

  beforeAll(async () => {
    const model = buildModel('batchnorm', { imageSize: 40, numClasses: 2, learningRate: 1e-3, seed: 2 });
    const { modelJson, weights } = await exportLayersModel(model);
    disposeCnn(model);
    bytes = layersModelToOnnx(modelJson, weights, metadata);
  });

  it('declares opset 13, the NHWC input with a symbolic batch, the output, and the metadata as metadata_props', () => {
    expect(bytes.constructor).toBe(Uint8Array);
    const decoded = decodeModel(bytes);
    expect(decoded.irVersion).toBe(ONNX_IR_VERSION);
    expect(decoded.opsetImport).toHaveLength(1);
    expect(decoded.opsetImport[0]).toMatchObject({ version: ONNX_OPSET });
    expect(decoded.opsetImport[0].domain ?? '').toBe(''); // The default domain, ai.onnx.
    expect(decoded.producerName).toBe(ONNX_PRODUCER);
    const [input] = decoded.graph.input;
    expect(input.name).toBe(ONNX_INPUT);
    expect(input.type.tensorType.elemType).toBe(1);
    expect(input.type.tensorType.shape.dim).toEqual([
      { dimParam: 'batch' },
      { dimValue: 40 },
      { dimValue: 40 },
      { dimValue: 1 },
    ]);
    const [output] = decoded.graph.output;
    expect(output.name).toBe(ONNX_OUTPUT);
    expect(output.type.tensorType.shape.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 1 }]);
    const ops = decoded.graph.node.map((n) => n.opType);
    expect(ops.filter((op) => op === 'BatchNormalization')).toHaveLength(4);
    expect(ops.at(-1)).toBe('Sigmoid');
    const props = Object.fromEntries(decoded.metadataProps.map(({ key, value }) => [key, value]));
    expect(props).toMatchObject({
      model: 'batchnorm',
      class_names: '["NORMAL","PNEUMONIA"]',
      image_size: '40',
      channels: '1',
      normalisation: metadata.normalisation,
      output: 'sigmoid',
      positive_class: 'PNEUMONIA',
      threshold: '0.4375',
      threshold_class: 'PNEUMONIA',
      threshold_rule: 'youden',
      trained_epochs: '3',
      created_at: metadata.createdAt,
      producer: ONNX_PRODUCER,
    });
    expect(JSON.parse(props.class_names)).toEqual(metadata.classNames);
    expect(props.converted_from).toMatch(/TensorFlow\.js/);
  });

  it('leaves out the metadata fields that are null', async () => {
    const model = buildModel('tutorial', { imageSize: 40, numClasses: 3, learningRate: 1e-3, seed: 2 });
    const { modelJson, weights } = await exportLayersModel(model);
    disposeCnn(model);
    const decoded = decodeModel(layersModelToOnnx(modelJson, weights, metadataFor('tutorial', ['a', 'b', 'c'], 40)));
    const keys = decoded.metadataProps.map((p) => p.key);
    expect(keys).toContain('class_names');
    expect(keys).not.toContain('threshold');
    expect(keys).not.toContain('positive_class');
    expect(decoded.graph.node.at(-1)?.opType).toBe('Softmax');
  });

  it.skipIf(!pythonHasOnnx)('with per-image standardisation, passes full_check and holds its nodes', async () => {
    const model = buildModel('batchnorm', {
      imageSize: 40,
      numClasses: 2,
      learningRate: 1e-3,
      seed: 2,
      intensityNormalisation: 'per-image',
    });
    const { modelJson, weights } = await exportLayersModel(model);
    disposeCnn(model);
    const path = join(tempDir, 'standardised.onnx');
    writeFileSync(path, layersModelToOnnx(modelJson, weights, metadata));
    const script = [
      'import sys, onnx',
      'm = onnx.load(sys.argv[1])',
      'onnx.checker.check_model(m, full_check=True)',
      'print(" ".join(n.op_type for n in m.graph.node[:9]))',
    ].join('\n');
    const run = spawnSync(PYTHON, ['-c', script, path], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('Transpose ReduceMean Sub Mul ReduceMean Max Sqrt Div Conv');
  });

  it.skipIf(!pythonHasOnnx)('passes onnx.checker.check_model with full_check (Python onnx)', () => {
    const path = join(tempDir, 'model.onnx');
    writeFileSync(path, bytes);
    const script = [
      'import sys, json, onnx',
      'm = onnx.load(sys.argv[1])',
      'onnx.checker.check_model(m, full_check=True)',
      'print(json.dumps({p.key: p.value for p in m.metadata_props}))',
    ].join('\n');
    const run = spawnSync(PYTHON, ['-c', script, path], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ class_names: '["NORMAL","PNEUMONIA"]', image_size: '40' });
  });
});

describe('layersModelToOnnx refuses', () => {
  let exported: { modelJson: string; weights: ArrayBuffer };
  const metadata = metadataFor('tutorial', ['NORMAL', 'PNEUMONIA'], 40);
  /** model.json with an edit made to its parsed object. */
  const edited = (
    edit: (json: {
      modelTopology: {
        class_name: string;
        config: { layers: { class_name: string; config: Record<string, unknown> }[] };
      };
    }) => void,
  ) => {
    const json = JSON.parse(exported.modelJson);
    edit(json);
    return JSON.stringify(json);
  };

  beforeAll(async () => {
    const model = buildModel('tutorial', { imageSize: 40, numClasses: 2, learningRate: 1e-3, seed: 2 });
    exported = await exportLayersModel(model);
    disposeCnn(model);
  });

  it('a layer it does not know, naming it and what it converts', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [40, 40, 1], filters: 2, kernelSize: 2 }),
        tf.layers.averagePooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    const { modelJson, weights } = await exportLayersModel(model);
    model.dispose();
    expect(() => layersModelToOnnx(modelJson, weights, metadata)).toThrow(
      /cannot convert layer average_pooling2d\w* \(AveragePooling2D\); it converts .*Conv2D/,
    );
  });

  it('an activation it does not know', () => {
    const json = edited((j) => (j.modelTopology.config.layers[9].config.activation = 'elu'));
    expect(() => layersModelToOnnx(json, exported.weights, metadata)).toThrow(/dense_1's activation "elu"/);
  });

  it('a model that is not Sequential', () => {
    const json = edited((j) => (j.modelTopology.class_name = 'Functional'));
    expect(() => layersModelToOnnx(json, exported.weights, metadata)).toThrow(/Sequential models only/);
  });

  it('metadata that does not describe the model', () => {
    expect(() =>
      layersModelToOnnx(exported.modelJson, exported.weights, metadataFor('tutorial', ['a', 'b', 'c'], 40)),
    ).toThrow(/does not match its metadata/);
    expect(() =>
      layersModelToOnnx(exported.modelJson, exported.weights, metadataFor('tutorial', ['a', 'b'], 64)),
    ).toThrow(/40x40x1 images/);
  });

  it('out-of-distribution statistics that do not fit the model, naming the layer and why', () => {
    /** A feature ensemble over `layers` (name, pooling, width), its statistics the identity. */
    const ensemble = (layers: [string, OodPooling, number][]): ModelMetadata => ({
      ...metadata,
      outOfDistribution: {
        method: 'mahalanobis-feature-ensemble',
        layers: layers.map(([featureLayer, pooling, size]) => ({
          featureLayer,
          pooling,
          classMeans: [new Array<number>(size).fill(0)],
          precision: Array.from({ length: size }, (_, i) => Array.from({ length: size }, (_, j) => +(i === j))),
          shrinkage: 0,
          scale: 1,
        })),
        threshold: 1,
        quantile: 0.95,
        trainImages: 2,
        validationImages: 2,
      },
    });
    const refusal = (layers: [string, OodPooling, number][]) => () =>
      layersModelToOnnx(exported.modelJson, exported.weights, ensemble(layers));
    expect(refusal([['max_pooling2d_1', 'spatial-mean', 32]])).not.toThrow();
    expect(refusal([['conv2d_9', 'spatial-mean', 32]])).toThrow(/no layer conv2d_9 for its out-of-distribution/);
    expect(refusal([['max_pooling2d_1', 'none', 32]])).toThrow(/read max_pooling2d_1 as a flat layer, but it is a 4-D/);
    expect(refusal([['dense_1', 'spatial-mean', 64]])).toThrow(/read dense_1 as a 4-D map .* but it is a flat layer/);
    expect(refusal([['max_pooling2d_3', 'spatial-mean', 32]])).toThrow(/as 32 features, but it gives 64/);
  });

  it('weights that do not fit the manifest', () => {
    expect(() => layersModelToOnnx(exported.modelJson, exported.weights.slice(0, 100), metadata)).toThrow(
      /weights\.bin is too short/,
    );
    const longer = new Uint8Array(exported.weights.byteLength + 4);
    expect(() => layersModelToOnnx(exported.modelJson, longer.buffer, metadata)).toThrow(/weights\.bin holds/);
  });
});
