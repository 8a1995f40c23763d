/**
 * A separable Gaussian blur on the worker's backend: the acquisition augmentation's blur (augment.ts) and the
 * acquisition-shift check's (acquisitionShifts.ts). The PyTorch bundle's gaussian_kernel is the same kernel.
 */
import * as tf from '@tensorflow/tfjs';

/** A normalised 1-D Gaussian of `sigma` pixels, radius ceil(3 sigma) (at least 1). */
export function gaussianKernel(sigma: number): number[] {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const weights = Array.from({ length: 2 * radius + 1 }, (_, i) =>
    Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)),
  );
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / sum);
}

/**
 * `xs` blurred by a separable Gaussian. Edges `reflect` (mirrored, radius below the image's side: no dark border) or
 * `clamp` (the edge pixel repeated, any radius).
 */
export function gaussianBlur(xs: tf.Tensor4D, sigma: number, edges: 'reflect' | 'clamp' = 'reflect'): tf.Tensor4D {
  const [, height, width] = xs.shape;
  const kernel = gaussianKernel(sigma);
  const half = (kernel.length - 1) / 2;
  const radius = edges === 'clamp' ? half : Math.min(half, height - 1, width - 1);
  const taps = kernel.slice(half - radius, half + radius + 1);
  const padded =
    edges === 'clamp'
      ? tf.gather(tf.gather(xs, clampedIndices(height, radius), 1), clampedIndices(width, radius), 2)
      : tf.mirrorPad(
          xs,
          [
            [0, 0],
            [radius, radius],
            [radius, radius],
            [0, 0],
          ],
          'reflect',
        );
  const rows = tf.conv2d(padded as tf.Tensor4D, tf.tensor4d(taps, [taps.length, 1, 1, 1]), 1, 'valid');
  return tf.conv2d(rows, tf.tensor4d(taps, [1, taps.length, 1, 1]), 1, 'valid');
}

/** Indices -radius .. side - 1 + radius, clamped to the image: its edge pixels repeated outwards. */
function clampedIndices(side: number, radius: number): tf.Tensor1D {
  return tf.tensor1d(
    Array.from({ length: side + 2 * radius }, (_, i) => Math.min(side - 1, Math.max(0, i - radius))),
    'int32',
  );
}
