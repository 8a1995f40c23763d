/**
 * The names every side speaks of the model's intensity normalisation layer (model/intensityNormalisation.ts builds
 * it; the exports write it; the page reads which one a model file holds). Ground floor: no tfjs.
 */
import type { IntensityNormalisation } from './types';

/** The layer's class name in model.json (and in the Keras export's config). */
export const PER_IMAGE_STANDARDIZATION = 'PerImageStandardization';
/** The layer's name in the models this app builds. */
export const PER_IMAGE_STANDARDIZATION_LAYER = 'per_image_standardization';

/** Which normalisation a model's layers hold (the class of its first layer after the input), by class names. */
export function intensityNormalisationOf(layerClassNames: readonly unknown[]): IntensityNormalisation {
  const first = layerClassNames.find((name) => name !== 'InputLayer');
  return first === PER_IMAGE_STANDARDIZATION ? 'per-image' : 'none';
}

/** What the model itself does to an image after the preparation its metadata's `normalisation` describes. */
export function inModelNormalisationText(normalisation: IntensityNormalisation): string {
  return normalisation === 'per-image'
    ? 'then, inside the model (its first layer, PerImageStandardization), each image minus its mean, divided by ' +
        'max(its standard deviation, 1 / sqrt(pixels)), as tf.image.per_image_standardization'
    : 'nothing more inside the model';
}

/**
 * The code a plain TensorFlow.js user runs before tf.loadLayersModel of a model with this layer (the app registers
 * the same class, model/intensityNormalisation.ts).
 */
export const TFJS_REGISTRATION_CODE = `import * as tf from '@tensorflow/tfjs';

class PerImageStandardization extends tf.layers.Layer {
  static className = 'PerImageStandardization';
  computeOutputShape(inputShape) {
    return inputShape;
  }
  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const pixels = x.shape[1] * x.shape[2] * x.shape[3];
      const centred = tf.sub(x, tf.mean(x, [1, 2, 3], true));
      const variance = tf.mean(tf.square(centred), [1, 2, 3], true);
      return tf.div(centred, tf.sqrt(tf.maximum(variance, 1 / pixels)));
    });
  }
}
tf.serialization.registerClass(PerImageStandardization);
// then: const model = await tf.loadLayersModel('model.json');`;
