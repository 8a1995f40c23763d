/**
 * The reference model: the Keras tutorial's small CNN for grey chest X-rays, layer for layer.
 * Pure tfjs (no DOM), so it builds the same in the worker and in Node tests.
 */
import * as tf from '@tensorflow/tfjs';
import { rmsprop } from './rmsprop';
import { conv2d } from './plainConv2d';
import type { IntensityNormalisation } from '../core/types';
import { UserError } from '../core/userError';
import { ENSEMBLE_AVERAGE_LAYER_NAME } from '../core/ensemble';
import { intensityNormalisationLayer } from './intensityNormalisation';

export interface TutorialCnnOptions {
  /** Images are `imageSize` x `imageSize` x 1 (grey). */
  imageSize: number;
  /** 2 → one sigmoid unit (P(class 1)); more → softmax over all classes. */
  numClasses: number;
  learningRate: number;
  /** Seeds the weight initialisers so a run can be repeated. Without it, weights are random each time. */
  seed?: number;
  /**
   * RMSprop's epsilon; Keras' 1e-7 by default. Always set here: tfjs would otherwise take its
   * backend's, which is 1e-4 on WebGL, and that makes RMSprop's steps up to 10x smaller there.
   */
  epsilon?: number;
  /**
   * Seeds Dropout as well. Only for comparing backends step by step: with a seed, tfjs draws the same
   * mask for every batch, which is why training never sets it.
   */
  dropoutSeed?: number;
  /** The model's first layer (intensityNormalisation.ts); none when absent. */
  intensityNormalisation?: IntensityNormalisation;
  /**
   * A snapshot ensemble of this many members saved as one model (ensemble.ts): every width times `members`, K sigmoid
   * outputs and the fixed `ensemble_average` layer after them. 1 (a single model) when absent; two classes only.
   */
  members?: number;
}

type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/** Keras' RMSprop epsilon (and its fuzz factor). */
export const KERAS_EPSILON = 1e-7;

/** Filters of the four Conv2D (2x2, 'valid') + MaxPooling2D (2x2) blocks, as in the tutorial. */
export const CONV_FILTERS: readonly number[] = [32, 32, 64, 32];

/**
 * Smallest side the four blocks accept: each block takes one pixel (2x2 'valid' conv) and then
 * halves (2x2 pooling, rounding down); at 31 px the last block ends at 1x1, at 30 px it would be 0x0.
 */
export const minImageSize = smallestValidSize();

/**
 * Throws a message a person can act on when the CNN cannot take images of this size. Only the
 * architecture's own limit: the largest size a run may ask for is the settings table's (core/settings.ts).
 */
export function validateImageSize(size: number): void {
  if (!Number.isInteger(size)) {
    throw new UserError(`Image size must be a whole number of pixels (got ${size}).`);
  }
  if (size < minImageSize) {
    throw new UserError(
      `Image size ${size} px is too small for this CNN: its four convolution + pooling blocks need at least ${minImageSize} px a side. Choose ${minImageSize} px or more (the tutorial uses 150 px).`,
    );
  }
}

/** Side of the feature map after the four blocks, e.g. 150 → 8. */
export function featureMapSize(imageSize: number): number {
  let side = imageSize;
  for (let i = 0; i < CONV_FILTERS.length; i++) side = Math.floor((side - 1) / 2);
  return side;
}

function smallestValidSize(): number {
  let size = 2;
  while (featureMapSize(size) < 1) size++;
  return size;
}

/** The output layer and loss the tutorial's recipe implies for this many classes. */
export function headFor(numClasses: number): { units: number; activation: 'sigmoid' | 'softmax'; loss: string } {
  return numClasses === 2
    ? { units: 1, activation: 'sigmoid', loss: 'binaryCrossentropy' }
    : { units: numClasses, activation: 'softmax', loss: 'categoricalCrossentropy' };
}

/** The last layer of an ensemble saved as one model: the mean of its members' outputs (ensemble.ts). */
export const ENSEMBLE_AVERAGE_LAYER = ENSEMBLE_AVERAGE_LAYER_NAME;

/** How many members the options ask for: 1 for a single model. */
export function membersOf(options: TutorialCnnOptions): number {
  return options.members ?? 1;
}

/** Refuses sizes, class counts and learning rates no model here can use, in words a person can act on. */
export function checkModelOptions({ imageSize, numClasses, learningRate, members = 1 }: TutorialCnnOptions): void {
  validateImageSize(imageSize);
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new UserError(`A classifier needs at least 2 classes (got ${numClasses}): put each class in its own folder.`);
  }
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw new UserError(`Learning rate must be a positive number (got ${learningRate}); the tutorial uses 0.001.`);
  }
  if (!Number.isInteger(members) || members < 1)
    throw new UserError(`An ensemble needs a whole number of members, 1 or more (got ${members}).`);
  if (members > 1 && numClasses !== 2) throw new UserError(ensembleClassesProblem(numClasses));
}

/** Why an ensemble saved as one model cannot have `numClasses` classes (only 2 can). */
export function ensembleClassesProblem(numClasses: number): string {
  return `A snapshot ensemble works with 2 classes only (this dataset has ${numClasses}): each member's softmax over ${numClasses} classes cannot be averaged by the one Dense layer the saved model ends with. Set Snapshot ensemble to 1.`;
}

/**
 * Glorot-uniform initialisers, each with its own seed from `seed` on (one shared seed would give
 * equal-shaped kernels identical values); unseeded, random each time.
 */
export function seededInitializers(seed: number | undefined): () => Initializer {
  let layerSeed = seed === undefined ? undefined : Math.trunc(seed);
  return () =>
    layerSeed === undefined ? tf.initializers.glorotUniform({}) : tf.initializers.glorotUniform({ seed: layerSeed++ });
}

/**
 * Adds the intensity normalisation layer the options ask for as the model's first; true when the next layer is the
 * first (and must take the input shape), false when the normalisation layer took it.
 */
export function addIntensityNormalisation(model: tf.Sequential, options: TutorialCnnOptions): boolean {
  const layer = intensityNormalisationLayer(options.intensityNormalisation, options.imageSize);
  if (layer) model.add(layer);
  return layer === null;
}

/**
 * Flatten, Dense 64 ReLU, Dropout 0.5 and the output layer, as the tutorial ends; then RMSprop with
 * Keras' defaults and the loss `headFor` implies.
 */
export function addHeadAndCompile(model: tf.Sequential, options: TutorialCnnOptions, init: () => Initializer): void {
  const { numClasses, learningRate, epsilon = KERAS_EPSILON, dropoutSeed } = options;
  const members = membersOf(options);
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'dense_1', units: 64 * members, activation: 'relu', kernelInitializer: init() }));
  // No seed on Dropout in training: tfjs would then draw the same mask for every batch.
  model.add(
    tf.layers.dropout({ name: 'dropout', rate: 0.5, ...(dropoutSeed === undefined ? {} : { seed: dropoutSeed }) }),
  );
  const head = headFor(numClasses);
  model.add(
    tf.layers.dense({
      name: 'dense_2',
      units: head.units * members,
      activation: head.activation,
      kernelInitializer: init(),
    }),
  );
  // Not trained (an ensemble is stacked from trained members): the mean of the members' P(class 1).
  if (members > 1) {
    model.add(
      tf.layers.dense({
        name: ENSEMBLE_AVERAGE_LAYER,
        units: 1,
        useBias: false,
        trainable: false,
        kernelInitializer: tf.initializers.constant({ value: 1 / members }),
      }),
    );
  }
  model.compile({
    // Keras' RMSprop defaults: rho 0.9, no momentum, not centred.
    optimizer: rmsprop(learningRate, 0.9, 0, epsilon, false),
    loss: head.loss,
    metrics: ['accuracy'],
  });
}

/** Builds and compiles the tutorial CNN (RMSprop, accuracy metric). Dispose with `disposeCnn`. */
export function buildTutorialCnn(options: TutorialCnnOptions): tf.LayersModel {
  checkModelOptions(options);
  const { imageSize } = options;
  const members = membersOf(options);
  const init = seededInitializers(options.seed);
  const model = tf.sequential({ name: 'tutorial_cnn' });
  const convTakesInput = addIntensityNormalisation(model, options);
  CONV_FILTERS.forEach((filters, i) => {
    model.add(
      // tfjs' Conv2D, trained as one fused kernel where the backend has it (plainConv2d.ts).
      conv2d({
        name: `conv2d_${i + 1}`,
        ...(i === 0 && convTakesInput ? { inputShape: [imageSize, imageSize, 1] } : {}),
        filters: filters * members,
        kernelSize: 2,
        padding: 'valid',
        activation: 'relu',
        kernelInitializer: init(),
        biasInitializer: 'zeros',
      }),
    );
    model.add(tf.layers.maxPooling2d({ name: `max_pooling2d_${i + 1}`, poolSize: 2 }));
  });
  addHeadAndCompile(model, options, init);
  return model;
}

/**
 * Frees the model's weights and its optimizer's state. tfjs leaves an optimizer passed as an
 * object (as here, to set the learning rate) to the caller, so `model.dispose()` alone leaks it.
 */
export function disposeCnn(model: tf.LayersModel): void {
  const optimizer = model.optimizer;
  model.dispose();
  optimizer?.dispose();
}
