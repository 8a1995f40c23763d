/**
 * Training-recipe variants that change what a step minimises or what it leaves of the weights (issue 23), each off
 * at 0: label smoothing (Szegedy et al. 2016: each target moves this share of the way to the uniform one), mixup
 * (Zhang et al. 2018: images, targets and class weights blended in pairs) and decoupled weight decay (Loshchilov and
 * Hutter 2019: the kernels shrink by learning rate x decay after each step, apart from RMSprop's scaling).
 * Pure: the random numbers come from the caller (seeded).
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainSettings } from '../core/types';
import { sampleWeights, type SoftTargets } from './weightedStep';

export type RecipeSettings = Pick<TrainSettings, 'labelSmoothing' | 'mixup' | 'weightDecay'>;

/** A batch as a step sees it: its images (mixed or not) and soft targets. */
export interface RegularisedBatch extends SoftTargets {
  xs: tf.Tensor4D;
}

/** Whether a step's batch is changed at all (label smoothing or mixup). */
export function changesTargets(recipe: RecipeSettings): boolean {
  return recipe.labelSmoothing > 0 || recipe.mixup > 0;
}

/**
 * A draw from Beta(alpha, alpha), alpha in (0, 1], by Jöhnk's method (Devroye 1986, IX.3.5): U^(1/a) and V^(1/a),
 * accepted when their sum is at most 1 (half the time at alpha 1, more often below).
 */
export function betaSample(alpha: number, random: () => number): number {
  for (;;) {
    const x = Math.pow(random(), 1 / alpha);
    const y = Math.pow(random(), 1 / alpha);
    // A sum of 0 (both draws underflowed, tiny alpha): either end is as likely.
    if (x + y > 0 && x + y <= 1) return x / (x + y);
    if (x + y === 0) return random() < 0.5 ? 0 : 1;
  }
}

/** Each image's own share in its blend, at least 0.5 (so the image's own label leads, as the batch accuracy reads it). */
export function mixupShares(n: number, alpha: number, random: () => number): number[] {
  return Array.from({ length: n }, () => {
    const lambda = betaSample(alpha, random);
    return Math.max(lambda, 1 - lambda);
  });
}

/**
 * The batch a step trains on: with mixup, image i blended with image n-1-i (the batch is already shuffled, so that
 * pairs at random) at its drawn share, targets and class weights alike; then label smoothing moves each target
 * `labelSmoothing` of the way to uniform over the classes (2 for a single sigmoid unit). New tensors, the caller's
 * to dispose; xs and ys are left as they are.
 */
export function regularisedBatch(
  xs: tf.Tensor4D,
  ys: tf.Tensor2D,
  classWeights: readonly number[],
  recipe: RecipeSettings,
  random: () => number,
): RegularisedBatch {
  const n = xs.shape[0];
  const classes = ys.shape[1] === 1 ? 2 : ys.shape[1];
  return tf.tidy(() => {
    let images: tf.Tensor4D = xs;
    let targets: tf.Tensor2D = ys;
    let weights = sampleWeights(ys, classWeights);
    if (recipe.mixup > 0 && n > 1) {
      const shares = mixupShares(n, recipe.mixup, random);
      const blend = <T extends tf.Tensor>(t: T, shape: number[]): T => {
        const own = tf.tensor(shares, shape, 'float32');
        return tf.add(tf.mul(t, own), tf.mul(tf.reverse(t, 0), tf.sub(1, own))) as T;
      };
      images = blend(xs, [n, 1, 1, 1]);
      targets = blend(ys, [n, 1]);
      weights = blend(weights, [n]);
    }
    if (recipe.labelSmoothing > 0)
      targets = tf.add(tf.mul(targets, 1 - recipe.labelSmoothing), recipe.labelSmoothing / classes);
    return {
      xs: images === xs ? tf.clone(xs) : images,
      targets: targets === ys ? tf.clone(ys) : targets,
      weights,
    };
  });
}

/** The weights decoupled decay shrinks: convolution and Dense kernels (not biases, not BatchNorm's scale and shift). */
export function decayedWeights(model: tf.LayersModel): tf.LayerVariable[] {
  return model.trainableWeights.filter((w) => /(^|\/)kernel(_\d+)?$/.test(w.originalName));
}

/** Decoupled weight decay after a step: each kernel times (1 - learningRate x decay). */
export function decayKernels(model: tf.LayersModel, learningRate: number, decay: number): void {
  if (decay <= 0) return;
  const keep = 1 - learningRate * decay;
  for (const weight of decayedWeights(model)) {
    const variable = weight.read() as tf.Variable;
    tf.tidy(() => variable.assign(tf.mul(variable, keep)));
  }
}

/** The disposer of a regularised batch's tensors. */
export function disposeRegularised(batch: RegularisedBatch): void {
  batch.xs.dispose();
  batch.targets.dispose();
  batch.weights.dispose();
}
