/**
 * The Python a Keras user needs for the app's own layers in a Keras HDF5 download: a file beside model.h5 with the
 * class of each (today the intensity normalisation layer, core/intensityNormalisation.ts), and how to load with it.
 * Pure text: no tfjs, no HDF5. test/keras_forward.py runs the same arithmetic in numpy.
 */
import { PER_IMAGE_STANDARDIZATION } from '../core/intensityNormalisation';

/** The file's name in the Keras download. */
export const KERAS_CUSTOM_LAYERS_FILE = 'per_image_standardization.py';

/** Its text: a Keras layer that works with tf.keras 2 and Keras 3 (TensorFlow backend). */
export const KERAS_CUSTOM_LAYERS_PY = `"""The in-browser X-ray trainer's intensity normalisation layer, for Keras.

    from per_image_standardization import PerImageStandardization
    model = keras.models.load_model('model.h5', custom_objects={'${PER_IMAGE_STANDARDIZATION}': PerImageStandardization})

Each image minus its mean over height, width and channels, divided by max(its standard deviation, 1 / sqrt(N)),
N = height x width x channels: tf.image.per_image_standardization, as the page's TensorFlow.js model computes it.
"""
import tensorflow as tf

try:
    from tensorflow import keras
except ImportError:  # Keras 3 alone
    import keras


class ${PER_IMAGE_STANDARDIZATION}(keras.layers.Layer):
    def call(self, inputs):
        pixels = tf.cast(tf.reduce_prod(tf.shape(inputs)[1:]), inputs.dtype)
        centred = inputs - tf.reduce_mean(inputs, axis=[1, 2, 3], keepdims=True)
        variance = tf.reduce_mean(tf.square(centred), axis=[1, 2, 3], keepdims=True)
        return centred / tf.sqrt(tf.maximum(variance, 1.0 / pixels))

    def compute_output_shape(self, input_shape):
        return input_shape
`;
