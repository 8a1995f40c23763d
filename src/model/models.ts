/**
 * Every network the app can train, by name (core/types.ts MODEL_NAMES, the settings table's `Model`):
 * the Keras tutorial's CNN exactly as it is (cnn.ts), and a variant with BatchNormalization.
 * Pure tfjs (no DOM), so each builds the same in the worker and in Node tests.
 */
import * as tf from '@tensorflow/tfjs';
import { MODEL_NAMES, type ModelName } from '../core/types';
import { UserError } from '../core/userError';
import { registerBatchNormGradient } from './batchNormGradient';
import { batchNormalization, reLU } from './batchNormLayer';
import {
  CONV_FILTERS,
  addHeadAndCompile,
  addIntensityNormalisation,
  buildTutorialCnn,
  checkModelOptions,
  membersOf,
  seededInitializers,
  type TutorialCnnOptions,
} from './cnn';
import { conv2d } from './plainConv2d';

export { MODEL_NAMES, type ModelName };

export type ModelOptions = TutorialCnnOptions;

/** How much of the running statistics each training batch keeps (see buildBatchNormCnn). */
export const BATCHNORM_MOMENTUM = 0.9;

/**
 * The tutorial's four blocks with BatchNormalization between each Conv2D and its ReLU
 * (Conv2D 2x2 without bias → BatchNormalization → ReLU → MaxPooling 2x2), then the tutorial's head.
 * Why: normalising each block's output per batch keeps every block's inputs on one scale while the
 * blocks below change, so RMSprop's steps suit all layers at once; measured on a patient-grouped
 * hold-out it ranks better than the tutorial's CNN (docs/benchmarks.md, Accuracy). Same kernels, pools and head
 * as the tutorial, so the smallest image (31 px), the feature map and the Dense layer's size are the
 * same. The convolutions
 * lose their bias (BatchNormalization's beta is one); each BatchNormalization adds 4 numbers a
 * channel, 2 trained (gamma, beta) and 2 running statistics used at inference (moving mean and
 * variance, epsilon 1e-3), saved with the weights.
 */
export function buildBatchNormCnn(options: ModelOptions): tf.LayersModel {
  checkModelOptions(options);
  registerBatchNormGradient();
  const members = membersOf(options);
  const init = seededInitializers(options.seed);
  const model = tf.sequential({ name: 'batchnorm_cnn' });
  const convTakesInput = addIntensityNormalisation(model, options);
  CONV_FILTERS.forEach((filters, i) => {
    const n = i + 1;
    model.add(
      // Bias-free and linear: the plain convolution's gradient skips the images' (plainConv2d.ts).
      conv2d({
        name: `conv2d_${n}`,
        ...(i === 0 && convTakesInput ? { inputShape: [options.imageSize, options.imageSize, 1] } : {}),
        filters: filters * members,
        kernelSize: 2,
        padding: 'valid',
        useBias: false,
        kernelInitializer: init(),
      }),
    );
    // Momentum 0.9 (PyTorch's 0.1), not Keras' 0.99: RMSprop's fixed-size steps change the scale of the
    // un-normalised convolution outputs quickly, and with 0.99 the running statistics lagged so far behind
    // that one run in three (64 px, seed 3) evaluated as one class; 0.9 follows the last ~10 batches.
    model.add(batchNormalization({ name: `batch_normalization_${n}`, axis: -1, momentum: BATCHNORM_MOMENTUM }));
    // Applied in the BatchNormalization kernels' passes in training, where the backend has them (batchNormLayer.ts).
    model.add(reLU({ name: `re_lu_${n}` }));
    model.add(tf.layers.maxPooling2d({ name: `max_pooling2d_${n}`, poolSize: 2 }));
  });
  addHeadAndCompile(model, options, init);
  return model;
}

const BUILDERS: Record<ModelName, (options: ModelOptions) => tf.LayersModel> = {
  tutorial: buildTutorialCnn,
  batchnorm: buildBatchNormCnn,
};

/** Builds and compiles the network called `name`. Dispose with `disposeCnn`. */
export function buildModel(name: ModelName, options: ModelOptions): tf.LayersModel {
  const build = (BUILDERS as Partial<Record<string, (options: ModelOptions) => tf.LayersModel>>)[name];
  if (!build) throw new UserError(`Unknown model "${String(name)}": choose one of ${MODEL_NAMES.join(', ')}.`);
  return build(options);
}
