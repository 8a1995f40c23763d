/**
 * Compares a training step's gradients on a backend with the cpu backend's, for every model this app
 * trains: the same seeded weights, images, Dropout mask and class weights on both, then the relative
 * difference of each weight's gradient. A backend whose kernels are missing a case or wrong (a new one,
 * such as WebGPU, is trusted only after this) shows differences of order 1; float32 arithmetic summed
 * in another order shows about 1e-6.
 */
import * as tf from '@tensorflow/tfjs';
import { disposeCnn, KERAS_EPSILON, minImageSize } from '../model/cnn';
import { buildModel } from '../model/models';
import type { ModelName } from '../core/types';
import { weightedCrossEntropy } from '../model/weightedStep';

/**
 * Largest relative difference (L2 norm of the difference over the cpu gradient's) allowed on any
 * weight. Why 1e-3: both backends compute in float32 (epsilon 1.2e-7); a gradient summed over a batch
 * and an image in another order differs by 1e-7 to 1e-5 relative, and a ReLU or max-pool tie decided
 * the other way moves a little more; a wrong or missing kernel case gives 1e-1 and up.
 */
export const GRADIENT_TOLERANCE = 1e-3;

export interface GradientComparison {
  /** The largest relative difference found, over every weight of every model checked. */
  largest: number;
  /** Where it was, e.g. "batchnorm conv2d_1/kernel". */
  where: string;
}

/** The models and heads checked: each model, one with a sigmoid head, one with softmax (its own loss). */
const CASES: readonly { model: ModelName; numClasses: number }[] = [
  { model: 'tutorial', numClasses: 3 },
  { model: 'batchnorm', numClasses: 2 },
];
/** Images a step: enough that BatchNorm's batch statistics and the batch sums matter. */
const BATCH = 4;

/** Compares `backendName`'s gradients with the cpu backend's; leaves `backendName` the current backend. */
export async function compareGradientsWithCpu(backendName: string): Promise<GradientComparison> {
  let worst: GradientComparison = { largest: 0, where: 'nowhere' };
  try {
    for (const { model, numClasses } of CASES) {
      await switchTo('cpu');
      const reference = await stepGradients(model, numClasses);
      await switchTo(backendName);
      const candidate = await stepGradients(model, numClasses);
      for (const [name, expected] of reference) {
        const actual = candidate.get(name);
        const difference = actual ? relativeDifference(actual, expected) : Infinity;
        // NaN compares false: it counts as the worst there is.
        if (!(difference <= worst.largest))
          worst = { largest: Number.isNaN(difference) ? Infinity : difference, where: `${model} ${name}` };
      }
    }
  } finally {
    await switchTo(backendName);
  }
  return worst;
}

/** In plain words, for the page: e.g. "1.2e-6 (tolerance 1e-3)". */
export function describeComparison({ largest }: GradientComparison): string {
  return `${largest.toExponential(1)} (tolerance ${GRADIENT_TOLERANCE.toExponential(0)})`;
}

async function switchTo(name: string): Promise<void> {
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`the ${name} backend did not start`);
}

/**
 * The gradients of one class-weighted training step (Dropout on, BatchNorm on batch statistics) of a
 * freshly built seeded model, on the current backend, by weight name. Inputs are made in JavaScript,
 * so both backends see the very same numbers (tfjs' seeded initialisers and Dropout draw in JavaScript too).
 */
async function stepGradients(name: ModelName, numClasses: number): Promise<Map<string, Float32Array>> {
  const imageSize = minImageSize + 1;
  const model = buildModel(name, { imageSize, numClasses, learningRate: 1e-3, seed: 7, dropoutSeed: 11 });
  const pixels = Float32Array.from(
    { length: BATCH * imageSize * imageSize },
    (_, i) => ((Math.sin(i * 12.9898) * 43758.5453) % 1) * 0.5 + 0.5,
  );
  const labels = Array.from({ length: BATCH }, (_, i) => i % numClasses);
  const xs = tf.tensor4d(pixels, [BATCH, imageSize, imageSize, 1]);
  const ys =
    numClasses === 2
      ? tf.tensor2d(labels, [BATCH, 1])
      : tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses).toFloat());
  const classWeights = Array.from({ length: numClasses }, (_, i) => 1 + i / 2);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  try {
    const { value, grads } = tf.variableGrads(() => {
      const probabilities = model.apply(xs, { training: true }) as tf.Tensor2D;
      return weightedCrossEntropy(probabilities, ys as tf.Tensor2D, classWeights, KERAS_EPSILON);
    }, variables);
    const result = new Map<string, Float32Array>();
    try {
      for (const weight of model.trainableWeights) {
        const grad = grads[(weight.read() as tf.Variable).name];
        if (grad) result.set(weight.originalName, (await grad.data()) as Float32Array);
      }
      result.set('loss', (await value.data()) as Float32Array);
    } finally {
      value.dispose();
      tf.dispose(grads);
    }
    return result;
  } finally {
    xs.dispose();
    ys.dispose();
    disposeCnn(model);
  }
}

/** ‖actual − expected‖ / ‖expected‖ (the absolute difference where the expected gradient is all but 0). */
export function relativeDifference(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) return Infinity;
  let difference = 0;
  let size = 0;
  for (let i = 0; i < expected.length; i++) {
    difference += (actual[i] - expected[i]) ** 2;
    size += expected[i] ** 2;
  }
  return Math.sqrt(difference) / Math.max(Math.sqrt(size), 1e-6);
}
