/**
 * The acquisition shifts of the Results' stress test (core/acquisitionShifts.ts names them), on a batch of the
 * model's input: grey 0..1 at its size S, before anything the model does inside (per-image standardisation, CLAHE),
 * values clipped to 0..1. Each is a fixed change, the same every time (the noise from a fixed seed per image).
 */
import * as tf from '@tensorflow/tfjs';
import type { AcquisitionShift } from '../core/acquisitionShifts';
import { gaussianBlur } from './gaussianBlur';

/** The blur's sigma at 150 px (scaled with the input size): 2 px, what a softer detector or a resampling does. */
const BLUR_SIGMA_AT_150 = 2;
/** The share of the image (each side) kept by `tighter framing`, zoomed back to full size. */
const FRAMING_KEPT = 0.7;
const NOISE_SD = 0.1;
/** The noise of the sample's image i is drawn from seed NOISE_SEED + i. */
export const NOISE_SEED = 23_000;

/**
 * A new tensor: `xs` ([n, S, S, 1], 0..1) under `shift`; `first` is the index of the batch's first image in the
 * sample (its noise seed). `xs` stays the caller's; no other tensor outlives the call.
 */
export function applyAcquisitionShift(xs: tf.Tensor4D, shift: AcquisitionShift, first = 0): tf.Tensor4D {
  const [n, height, width] = xs.shape;
  return tf.tidy(() => {
    const shifted = ((): tf.Tensor4D => {
      switch (shift) {
        case 'as is':
          return tf.clone(xs);
        case 'blurred':
          return gaussianBlur(xs, (BLUR_SIGMA_AT_150 * height) / 150, 'clamp');
        case 'low resolution': {
          const small = tf.image.resizeBilinear(xs, [
            Math.max(1, Math.round(height / 4)),
            Math.max(1, Math.round(width / 4)),
          ]);
          return tf.image.resizeBilinear(small, [height, width]);
        }
        case 'tighter framing': {
          const margin = (1 - FRAMING_KEPT) / 2;
          const boxes = tf.tensor2d(
            Array.from({ length: n }, () => [margin, margin, 1 - margin, 1 - margin]),
            [n, 4],
          );
          const boxIndices = tf.tensor1d(
            Array.from({ length: n }, (_, i) => i),
            'int32',
          );
          return tf.image.cropAndResize(xs, boxes, boxIndices, [height, width], 'bilinear');
        }
        case 'contrast halved': {
          const mean = tf.mean(xs, [1, 2, 3], true);
          return tf.add(tf.mul(tf.sub(xs, mean), 0.5), mean);
        }
        case 'brighter (gamma 0.5)':
          return tf.pow(tf.clipByValue(xs, 0, 1), 0.5);
        case 'darker (gamma 2)':
          return tf.pow(tf.clipByValue(xs, 0, 1), 2);
        case 'noise': {
          // Each image's noise from its own seed: the same whatever the batch size.
          const noise = tf.concat(
            Array.from({ length: n }, (_, i) =>
              tf.randomNormal([1, height, width, 1], 0, NOISE_SD, 'float32', NOISE_SEED + first + i),
            ),
          );
          return tf.add(xs, noise);
        }
        case 'inverted':
          return tf.sub(1, xs);
      }
    })();
    return tf.clipByValue(shifted, 0, 1) as tf.Tensor4D;
  });
}
