/**
 * Test-time augmentation: an image's score as the mean of the model's scores on a few views of it, the image itself
 * and small shifts and scales of it (and with `shift-scale-flip` their mirror images too), each drawn by the same
 * affine map and sampling as training's augmentation (augment.ts). The views are fixed, so a score is repeatable.
 */
import * as tf from '@tensorflow/tfjs';
import type { TestTimeAugmentation } from '../core/types';
import { affineMatrix, type AugmentParams } from './augment';

/** A shift of this share of the side, each way along each axis. */
const SHIFT = 0.04;
/** Zooms (Keras' sense: > 1 shows more, smaller) either side of 1. */
const SCALES = [0.95, 1.05];

const IDENTITY: AugmentParams = {
  rotation: 0,
  shiftX: 0,
  shiftY: 0,
  shear: 0,
  zoomX: 1,
  zoomY: 1,
  flip: false,
  brightness: 1,
};

/** The views of an image of `size` px scored for `kind` (the image itself first); one for `off`. */
export function ttaViews(kind: TestTimeAugmentation, size: number): AugmentParams[] {
  if (kind === 'off') return [IDENTITY];
  const step = SHIFT * size;
  const views: AugmentParams[] = [
    IDENTITY,
    ...[
      [step, 0],
      [-step, 0],
      [0, step],
      [0, -step],
    ].map(([shiftX, shiftY]) => ({ ...IDENTITY, shiftX, shiftY })),
    ...SCALES.map((zoom) => ({ ...IDENTITY, zoomX: zoom, zoomY: zoom })),
  ];
  return kind === 'shift-scale-flip' ? [...views, ...views.map((v) => ({ ...v, flip: true }))] : views;
}

/**
 * The model's output for `xs` ([n, h, w, 1], 0..1), averaged over `kind`'s views: a new tensor, the caller's; the
 * plain `model.predict` for `off`. Dropout is off (inference). `plain`: the output for `xs` itself where the caller
 * has it already (the pass that also read features), so that view is not run again; it stays the caller's.
 */
export function predictWithTta(
  model: tf.LayersModel,
  xs: tf.Tensor4D,
  kind: TestTimeAugmentation,
  plain?: tf.Tensor,
): tf.Tensor2D {
  if (kind === 'off')
    return tf.tidy(() => (plain ? plain.clone() : model.predict(xs, { batchSize: xs.shape[0] })) as tf.Tensor2D);
  const [n, height, width] = xs.shape;
  const views = ttaViews(kind, width);
  let sum: tf.Tensor2D | null = null;
  try {
    for (const view of views) {
      // A view at a time, its activations freed before the next: memory as one plain prediction.
      const next: tf.Tensor2D = tf.tidy(() => {
        if (view === IDENTITY && plain) return (sum ? tf.add(sum, plain) : plain.clone()) as tf.Tensor2D;
        const matrix = affineMatrix(view, width, height);
        const moved =
          view === IDENTITY
            ? xs
            : tf.image.transform(xs, tf.tensor2d(Array(n).fill(matrix).flat(), [n, 8]), 'bilinear', 'nearest');
        const out = model.predict(moved, { batchSize: n }) as tf.Tensor2D;
        return sum ? tf.add(sum, out) : out;
      });
      sum?.dispose();
      sum = next;
    }
    return tf.tidy(() => tf.div(sum!, views.length));
  } finally {
    sum?.dispose();
  }
}
