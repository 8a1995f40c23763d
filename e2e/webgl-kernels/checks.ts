/**
 * Our WebGL kernels (src/backends/webglKernels.ts) against the cpu backend, in the browser's WebGL (SwiftShader
 * here): each case computes the same thing from the same numbers on both backends, kernel outputs and gradients,
 * and reports the largest relative difference (gradientCheck.ts' measure). Shapes: batch 1, sizes that are no
 * multiple of anything, several channels, strides and padding, and ones large enough to need several folding passes.
 */
import * as tf from '@tensorflow/tfjs';
import { compareGradientsWithCpu, relativeDifference } from '../../src/backends/gradientCheck';
import { registerWebglTrainingKernels, webglTrainingKernelsActive } from '../../src/backends/webglKernels';
import { batchNormInTraining } from '../../src/model/batchNormTraining';
import { checkGather, type GatherResult } from './gather';
import { evaluationFromResidentImages, type EvaluationMatch } from '../gpuGather';

type Shape4 = [number, number, number, number];

export interface CaseResult {
  name: string;
  /** Largest relative difference of any output from the cpu backend's. */
  largest: number;
  /** Which output that was. */
  where: string;
}

export interface CheckResult {
  active: boolean;
  renderer: string;
  cases: CaseResult[];
  /** A class-weighted training step of each model (gradientCheck.ts): every weight's gradient against the cpu's. */
  models: CaseResult;
  /** A batch gathered from the split packed on WebGL against the cpu path's floats. */
  gather: GatherResult;
  /** Validation/test evaluation from the resident split against CPU batches, on WebGL. */
  evaluation: EvaluationMatch;
  /** WebGL textures of ours not freed by the cases (kernel intermediates that leaked). */
  leakedData: number;
  leakedTensors: number;
}

/** Reproducible numbers in [-1, 1) (+ offset), the same on every backend. */
function numbers(size: number, seed: number, offset = 0): Float32Array {
  return Float32Array.from(
    { length: size },
    (_, i) => ((Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453) % 1) + offset,
  );
}

const tensor4 = (shape: Shape4, seed: number, offset = 0) =>
  tf.tensor4d(numbers(tf.util.sizeFromShape(shape), seed, offset), shape);

/** Runs `compute` on the cpu backend and on webgl, and compares every output. */
async function compare(name: string, compute: () => tf.Tensor[], labels: string[]): Promise<CaseResult> {
  const results: Float32Array[][] = [];
  for (const backend of ['cpu', 'webgl']) {
    await tf.setBackend(backend);
    const outputs = tf.tidy(compute);
    results.push((await Promise.all(outputs.map((t) => t.data()))) as Float32Array[]);
    tf.dispose(outputs);
  }
  const [expected, actual] = results;
  let worst: CaseResult = { name, largest: 0, where: 'nowhere' };
  expected.forEach((values, i) => {
    const difference = relativeDifference(actual[i], values);
    if (!(difference <= worst.largest))
      worst = { name, largest: Number.isNaN(difference) ? Infinity : difference, where: labels[i] };
  });
  return worst;
}

interface FilterCase {
  x: Shape4;
  filter: Shape4;
  strides?: number;
  pad?: 'valid' | 'same';
  dataFormat?: 'NHWC' | 'NCHW';
}

/** The kernel itself (runKernel), then the gradients of a convolution through tfjs' gradient, which calls it. */
function filterGradCase({ x, filter, strides = 1, pad = 'valid', dataFormat = 'NHWC' }: FilterCase): () => tf.Tensor[] {
  return () => {
    const input = tensor4(x, 1);
    const weights = tensor4(filter, 2);
    const outShape = tf.conv2d(input, weights, strides, pad, dataFormat).shape;
    const dy = tensor4(outShape, 3);
    const attrs = { strides, pad, dataFormat, filterShape: filter };
    const dw = tf
      .engine()
      .runKernel(tf.Conv2DBackpropFilter, { x: input, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    const grads = tf.grads((a: tf.Tensor, w: tf.Tensor) =>
      tf
        .conv2d(a as tf.Tensor4D, w as tf.Tensor4D, strides, pad, dataFormat)
        .mul(dy)
        .sum(),
    );
    return [dw, ...grads([input, weights])];
  };
}

interface NormCase {
  x: Shape4;
  relu: boolean;
  /** Added to x: a mean far from 0 (the forward pass's shift keeps the variance exact). */
  offset?: number;
}

/** y, mean and variance of BatchNormalization in training, and the gradients of Σ y·r: ours on webgl, tfjs' chain on cpu. */
function batchNormCase({ x, relu, offset = 0 }: NormCase): () => tf.Tensor[] {
  return () => {
    const c = x[3];
    const input = tensor4(x, 4, offset);
    const gamma = tf.tensor1d(numbers(c, 5, 1.5));
    const beta = tf.tensor1d(numbers(c, 6));
    const r = tensor4(x, 7);
    const epsilon = 1e-3;
    const ours = tf.getBackend() === 'webgl';
    const normalise = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      if (ours) return batchNormInTraining(a, g, b, epsilon, relu);
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      const y = tf.batchNorm(a, mean, variance, b, g, epsilon);
      return { y: relu ? tf.relu(y) : y, mean, variance };
    };
    const forward = normalise(input, gamma, beta);
    const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { y, mean, variance } = normalise(a, g, b);
      // Ours keeps the statistics beyond its tidy (for the moving averages).
      if (ours) tf.dispose([mean, variance]);
      return y.mul(r).sum();
    });
    return [forward.y, forward.mean, forward.variance, ...grads([input, gamma, beta])];
  };
}

/** Sum over all but the channels, keepDims both ways, a Sum we leave to tfjs, and a convolution's bias gradient (a Sum). */
function sumCase(shape: Shape4): () => tf.Tensor[] {
  return () => {
    const x = tensor4(shape, 8);
    const bias = tf.tensor1d(numbers(shape[3], 9));
    const r = tensor4(shape, 10);
    const [dx, dbias] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.relu(tf.add(a, b)).mul(r).sum())([x, bias]);
    return [tf.sum(x, [0, 1, 2]), tf.sum(x, [-2, 0, 1], true), tf.sum(x, [1, 2]), dx, dbias];
  };
}

const SUM_CASES: readonly [string, Shape4][] = [
  ['Sum over n, h, w, batch 1, 7x5, 3 channels', [1, 7, 5, 3]],
  ['Sum over n, h, w, 12x40x40, 19 chunks', [12, 40, 40, 5]],
];

const FILTER_CASES: readonly [string, FilterCase][] = [
  ['filter gradient, batch 1, 5x7, 1 -> 3 channels', { x: [1, 5, 7, 1], filter: [2, 2, 1, 3] }],
  ['filter gradient, batch 3, 9x6, 4 -> 5 channels', { x: [3, 9, 6, 4], filter: [2, 2, 4, 5] }],
  ['filter gradient, 3x3, stride 2, same padding', { x: [2, 8, 7, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'same' }],
  // 89·64 rows of dy, 3 columns: 17 chunks of 342 rows, folded twice.
  ['filter gradient, 64x90x4, 17 chunks', { x: [64, 90, 4, 2], filter: [2, 2, 2, 3] }],
  ['filter gradient, NCHW (the shipped kernel)', { x: [2, 3, 6, 5], filter: [2, 2, 3, 2], dataFormat: 'NCHW' }],
];

const NORM_CASES: readonly [string, NormCase][] = [
  ['BatchNorm, batch 1, 3x5, 2 channels', { x: [1, 3, 5, 2], relu: false }],
  ['BatchNorm + ReLU, batch 4, 9x7, 3 channels', { x: [4, 9, 7, 3], relu: true }],
  ['BatchNorm + ReLU, mean 50', { x: [3, 6, 5, 4], relu: true, offset: 50 }],
  // 640 rows of 40: 25 chunks, folded twice.
  ['BatchNorm, 16x40x40, 25 chunks', { x: [16, 40, 40, 1], relu: false }],
];

function renderer(): string {
  const gl = (tf.backend() as unknown as { gpgpu: { gl: WebGL2RenderingContext } }).gpgpu.gl;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

export async function runChecks(): Promise<CheckResult> {
  registerWebglTrainingKernels();
  if (!(await tf.setBackend('webgl'))) throw new Error('WebGL did not start');
  const webgl = tf.backend();
  const dataBefore = webgl.numDataIds();
  const tensorsBefore = tf.memory().numTensors;
  const cases: CaseResult[] = [];
  for (const [name, shape] of FILTER_CASES)
    cases.push(await compare(name, filterGradCase(shape), ['dw (kernel)', 'dx', 'dw']));
  for (const [name, shape] of NORM_CASES) {
    cases.push(await compare(name, batchNormCase(shape), ['y', 'mean', 'variance', 'dx', 'dscale', 'doffset']));
  }
  for (const [name, shape] of SUM_CASES)
    cases.push(await compare(name, sumCase(shape), ['sum', 'sum (keepDims)', 'sum over h, w', 'dx', 'dbias']));
  const step = await compareGradientsWithCpu('webgl');
  const gather = await checkGather();
  const evaluation = await evaluationFromResidentImages();
  return {
    gather,
    evaluation,
    active: webglTrainingKernelsActive(),
    renderer: renderer(),
    cases,
    models: { name: 'training step of each model', largest: step.largest, where: step.where },
    leakedData: webgl.numDataIds() - dataBefore,
    leakedTensors: tf.memory().numTensors - tensorsBefore,
  };
}
