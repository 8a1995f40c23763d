/**
 * Intensity normalisation as the model's first layer (the setting `Intensity normalisation`): per-image
 * standardisation, as tf.image.per_image_standardization: each image minus its mean, divided by
 * max(its standard deviation, 1 / sqrt(pixels)). Why a layer: Predict, Grad-CAM, the out-of-distribution features,
 * evaluation and every export then see it, and no runtime can forget it. Why per image: films from another machine
 * differ in exposure and contrast; a model that sees each image on its own scale depends less on them.
 * Registered with tf.serialization, so a saved model (storage, `Model file`) loads it back; a plain TensorFlow.js
 * user registers the same class (core/intensityNormalisation.ts TFJS_REGISTRATION_CODE, in the model card). No weights.
 */
import * as tf from '@tensorflow/tfjs';
import { PER_IMAGE_STANDARDIZATION, PER_IMAGE_STANDARDIZATION_LAYER } from '../core/intensityNormalisation';
import type { IntensityNormalisation } from '../core/types';

export { PER_IMAGE_STANDARDIZATION, PER_IMAGE_STANDARDIZATION_LAYER };

/**
 * Each image of `x` [n, h, w, c] minus its mean over h, w, c, divided by its (population) standard deviation, at
 * least 1 / sqrt(h w c). The floor is taken before the square root (sqrt(max(variance, 1 / N)), the same value),
 * so that a flat image's gradient is 0 rather than 0 / 0.
 */
export function perImageStandardise(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const axes = [1, 2, 3];
    const pixels = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const mean = tf.mean(x, axes, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.mul(centred, centred), axes, true);
    return tf.div(centred, tf.sqrt(tf.maximum(variance, 1 / pixels)));
  });
}

export class PerImageStandardization extends tf.layers.Layer {
  static className = PER_IMAGE_STANDARDIZATION;

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    if (input.rank !== 4)
      throw new Error(
        `${PER_IMAGE_STANDARDIZATION} takes images [batch, height, width, channels], not rank ${input.rank}.`,
      );
    return perImageStandardise(input);
  }
}

/** Makes `PerImageStandardization` in a model.json buildable (tf.loadLayersModel). Idempotent. */
export function registerIntensityNormalisationLayer(): void {
  tf.serialization.registerClass(PerImageStandardization);
}

/**
 * The first layer for `normalisation` (taking the model's input shape), or null for `none`: the model then starts
 * at its first convolution, as the tutorial's.
 */
export function intensityNormalisationLayer(
  normalisation: IntensityNormalisation | undefined,
  imageSize: number,
): tf.layers.Layer | null {
  if (normalisation === undefined || normalisation === 'none') return null;
  registerIntensityNormalisationLayer();
  return new PerImageStandardization({ name: PER_IMAGE_STANDARDIZATION_LAYER, inputShape: [imageSize, imageSize, 1] });
}
