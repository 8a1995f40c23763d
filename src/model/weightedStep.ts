/**
 * One optimizer step with per-class loss weights. `model.trainOnBatch` takes no class weights in
 * TensorFlow.js, so this does what it does (forward pass with Dropout on, loss, gradients of the
 * trainable weights, the compiled optimizer's update) with the loss weighted by each image's class.
 */
import * as tf from '@tensorflow/tfjs';

/** What a step minimises instead of the batch's own labels (model/recipe.ts): soft targets and each image's weight. */
export interface SoftTargets {
  /** Like ys ([n, 1] binary, [n, k] one-hot) but soft. */
  targets: tf.Tensor2D;
  /** [n]. */
  weights: tf.Tensor1D;
}

export interface StepResult {
  /** The weighted loss the step minimised (as Keras reports it with `class_weight`). */
  loss: number;
  /** Share of the batch predicted right (unweighted, like Keras' `accuracy` metric). */
  accuracy: number;
}

/**
 * Per-image cross-entropy of `probabilities` against `ys`, as tfjs-layers computes it: binary
 * ([n, 1] sigmoid outputs, [n, 1] 0/1 targets) or categorical ([n, k] softmax outputs, one-hot
 * targets, each row rescaled to sum 1). Probabilities are clipped to [epsilon, 1 - epsilon] first.
 * Returns [n].
 */
export function perSampleCrossEntropy(probabilities: tf.Tensor2D, ys: tf.Tensor2D, epsilon: number): tf.Tensor1D {
  return tf.tidy(() => {
    if (ys.shape[1] === 1) {
      const p = tf.clipByValue(probabilities, epsilon, 1 - epsilon);
      const positive = tf.mul(ys, tf.log(p));
      const negative = tf.mul(tf.sub(1, ys), tf.log(tf.sub(1, p)));
      return tf.neg(tf.add(positive, negative)).reshape([-1]) as tf.Tensor1D;
    }
    const rows = tf.div(probabilities, tf.sum(probabilities, -1, true));
    const p = tf.clipByValue(rows, epsilon, 1 - epsilon);
    return tf.neg(tf.sum(tf.mul(ys, tf.log(p)), -1)) as tf.Tensor1D;
  });
}

/**
 * The weight of each image of a batch, [n], from its targets: binary ys [n, 1] (class 1 when 1),
 * or one-hot ys [n, k]. `classWeights` has one weight a class.
 */
export function sampleWeights(ys: tf.Tensor2D, classWeights: readonly number[]): tf.Tensor1D {
  return tf.tidy(() => {
    if (ys.shape[1] === 1) {
      if (classWeights.length !== 2)
        throw new Error(`A binary model needs 2 class weights (got ${classWeights.length}).`);
      const [w0, w1] = classWeights;
      return tf.add(tf.mul(ys, w1 - w0), w0).reshape([-1]) as tf.Tensor1D;
    }
    if (classWeights.length !== ys.shape[1])
      throw new Error(`${ys.shape[1]} classes need as many class weights (got ${classWeights.length}).`);
    return tf.matMul(ys, tf.tensor2d(Array.from(classWeights), [classWeights.length, 1])).reshape([-1]) as tf.Tensor1D;
  });
}

/**
 * The mean over the batch of weight × cross-entropy: Keras' reduction with `class_weight`
 * (sum over the images, divided by their number, not by the sum of their weights). With every
 * weight 1 it is the plain mean cross-entropy that `trainOnBatch` minimises.
 */
export function weightedCrossEntropy(
  probabilities: tf.Tensor2D,
  ys: tf.Tensor2D,
  classWeights: readonly number[],
  epsilon: number,
): tf.Scalar {
  return tf.tidy(
    () =>
      tf.mean(tf.mul(perSampleCrossEntropy(probabilities, ys, epsilon), sampleWeights(ys, classWeights))) as tf.Scalar,
  );
}

/** Binary: class 1 when the probability is above 0.5 (tfjs' binaryAccuracy); otherwise the most probable class. */
function batchAccuracy(probabilities: tf.Tensor2D, ys: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const right =
      ys.shape[1] === 1
        ? tf.equal(tf.cast(tf.greater(probabilities, 0.5), 'float32'), ys)
        : tf.equal(tf.argMax(probabilities, -1), tf.argMax(ys, -1));
    return tf.mean(tf.cast(right, 'float32')) as tf.Scalar;
  });
}

/**
 * One step of the model's compiled optimizer on one batch, minimising the class-weighted
 * cross-entropy. Every tensor it makes is freed before it returns (the caller owns xs and ys).
 */
export async function weightedTrainStep(
  model: tf.LayersModel,
  xs: tf.Tensor4D,
  ys: tf.Tensor2D,
  classWeights: readonly number[],
): Promise<StepResult> {
  return startWeightedTrainStep(model, xs, ys, classWeights);
}

/**
 * The same step, its work queued on the backend when this returns (xs and ys may be freed then) and its loss and
 * accuracy read back meanwhile: the promise settles once they are here. A caller may queue the next step before it
 * awaits this one's figures, so that a GPU never idles while the page learns them. Its tensors are freed once read.
 * With `soft` (label smoothing, mixup: model/recipe.ts), the loss is the mean of its weight x cross-entropy against
 * its targets instead; the accuracy is still read against ys.
 */
export function startWeightedTrainStep(
  model: tf.LayersModel,
  xs: tf.Tensor4D,
  ys: tf.Tensor2D,
  classWeights: readonly number[],
  soft: SoftTargets | null = null,
): Promise<StepResult> {
  const optimizer = model.optimizer;
  if (!optimizer) throw new Error('The model has no optimizer: compile it before training.');
  // tfjs-layers clips with the backend's epsilon (1e-7, or 1e-4 where floats are 16-bit): so does this.
  const epsilon = tf.backend().epsilon();
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let accuracy: tf.Scalar | null = null;
  let cost: tf.Scalar | null = null;
  const dispose = () => {
    cost?.dispose();
    (accuracy as tf.Scalar | null)?.dispose();
  };
  let read: Promise<[tf.TypedArray, tf.TypedArray]>;
  try {
    cost = optimizer.minimize(
      () => {
        // training: true turns Dropout on, as trainOnBatch does.
        const probabilities = model.apply(xs, { training: true }) as tf.Tensor2D;
        // Kept out of minimize's scope (and its gradient tape's path to the loss) for the caller.
        accuracy = tf.keep(batchAccuracy(probabilities, ys));
        if (soft)
          return tf.mean(
            tf.mul(perSampleCrossEntropy(probabilities, soft.targets, epsilon), soft.weights),
          ) as tf.Scalar;
        return weightedCrossEntropy(probabilities, ys, classWeights, epsilon);
      },
      true,
      variables,
    );
    if (!cost || !accuracy) throw new Error('The optimizer step returned no loss.');
    read = Promise.all([cost.data(), (accuracy as tf.Scalar).data()]);
  } catch (error) {
    dispose();
    throw error;
  }
  return read.then(([loss, right]) => ({ loss: loss[0], accuracy: right[0] })).finally(dispose);
}
