/**
 * Training-time augmentation on the backend, modelled on Keras' ImageDataGenerator: each image gets
 * its own random rotation, zoom, shift, shear and (optionally) left-right mirror, folded into one
 * affine matrix and applied by tf.image.transform (bilinear, edges filled with the nearest pixel, as
 * Keras' default fill_mode='nearest'), then a random brightness factor, clipped to 0..1 as Keras'
 * (PIL's) brightness is clipped to 0..255. Pure: the random numbers come from the caller (seeded).
 *
 * Coordinates are pixel centres, x right and y down, about the image's centre ((w-1)/2, (h-1)/2), so
 * "no change" is exactly the identity (Keras centres on w/2 + 0.5, half a pixel off).
 *
 * Then what another detector or site does to a film (issue 23), each image its own draw from a second stream
 * (so turning these on leaves the draws above as they were): a Gaussian blur mixed in, contrast about the image's
 * mean, a gamma curve and Gaussian noise, in that order (blur and noise of the detector around the processing's
 * curve), clipped to 0..1.
 *
 * Framing (crop) has a third stream: half the images are cropped to a square window and scaled back, folded into the
 * same affine map, before the changes above (as another site's collimation frames the film before anything else).
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../core/random';
import { WHOLE_FRAME, framingParams, type FramingParams } from '../core/framing';
import type { AugmentationSettings } from '../core/types';
import { gaussianBlur } from './gaussianBlur';

export { NO_AUGMENTATION, checkAugmentation, isAugmenting } from '../core/settings';
export { FRAMING_DRAWS_PER_IMAGE, framingParams, type FramingParams } from '../core/framing';

/** One image's draw: what is done to it. */
export interface AugmentParams {
  /** Degrees, counter-clockwise as seen on screen. */
  rotation: number;
  /** Pixels the content moves right and down. */
  shiftX: number;
  shiftY: number;
  /** Degrees. */
  shear: number;
  /** Keras' zoom: the output samples the input this many times wider (> 1 shows more, smaller). */
  zoomX: number;
  zoomY: number;
  flip: boolean;
  /** Pixel values are multiplied by this. */
  brightness: number;
}

/** Random numbers each image draws, whatever is on: turning one change on leaves the others' draws alone. */
export const DRAWS_PER_IMAGE = 8;

/** One image's acquisition changes (acquisitionParams). */
export interface AcquisitionParams {
  /** The spread about the image's mean is multiplied by this. */
  contrast: number;
  /** Pixel values (0..1) are raised to this power. */
  gamma: number;
  /** The share of the blurred image mixed in (0..1). */
  blurWeight: number;
  /** The noise's standard deviation. */
  noise: number;
  /** Seeds the image's noise. */
  noiseSeed: number;
}

/** Random numbers each image draws from the acquisition stream, whatever is on. */
export const ACQUISITION_DRAWS_PER_IMAGE = 5;

/** Draws one image's acquisition changes; always ACQUISITION_DRAWS_PER_IMAGE numbers. */
export function acquisitionParams(settings: AugmentationSettings, random: () => number): AcquisitionParams {
  return {
    contrast: 1 + spread(random, settings.contrast),
    // Log-uniform: as likely to brighten the mid-greys (gamma 1/1.3) as to darken them (1.3).
    gamma: Math.pow(1 + settings.gamma, random() * 2 - 1),
    blurWeight: settings.blur > 0 ? random() : (random(), 0),
    noise: random() * settings.noise,
    noiseSeed: Math.floor(random() * 2 ** 31),
  };
}

function isAcquisition(s: AugmentationSettings): boolean {
  return s.contrast > 0 || s.gamma > 0 || s.blur > 0 || s.noise > 0;
}

/** The acquisition changes of a batch (values 0..1 in, clipped 0..1 out); inside the caller's tidy. */
function applyAcquisition(xs: tf.Tensor4D, settings: AugmentationSettings, params: AcquisitionParams[]): tf.Tensor4D {
  const n = xs.shape[0];
  const perImage = (pick: (p: AcquisitionParams) => number) => tf.tensor4d(params.map(pick), [n, 1, 1, 1], 'float32');
  let out = xs;
  if (settings.blur > 0)
    out = tf.add(
      out,
      tf.mul(
        tf.sub(gaussianBlur(out, settings.blur), out),
        perImage((p) => p.blurWeight),
      ),
    );
  if (settings.contrast > 0) {
    const mean = tf.mean(out, [1, 2, 3], true);
    out = tf.add(
      tf.mul(
        tf.sub(out, mean),
        perImage((p) => p.contrast),
      ),
      mean,
    );
  }
  // x^g as exp(g ln x): the wasm backend's pow with a per-image exponent (broadcast) took half of the whole
  // augmentation's time (docs/benchmarks.md). Clipped first, to a floor above 0: a value blur or contrast took
  // below 0 would be NaN, and 0 itself would rely on ln 0 = -inf, which GLSL leaves undefined; the floor's
  // power is under 1e-10 for any gamma the settings allow (powers 1/3 to 3), far inside a grey level.
  if (settings.gamma > 0)
    out = tf.exp(
      tf.mul(
        tf.log(tf.clipByValue(out, 1e-30, 1)),
        perImage((p) => p.gamma),
      ),
    ) as tf.Tensor4D;
  if (settings.noise > 0) {
    const [, height, width] = xs.shape;
    // Each image's noise from its own seed: the batch's draw does not depend on the backend.
    const unit = tf.concat(params.map((p) => tf.randomNormal([1, height, width, 1], 0, 1, 'float32', p.noiseSeed)));
    out = tf.add(
      out,
      tf.mul(
        unit,
        perImage((p) => p.noise),
      ),
    );
  }
  return tf.clipByValue(out, 0, 1) as tf.Tensor4D;
}

function isGeometric(s: AugmentationSettings): boolean {
  return s.rotation > 0 || s.zoom > 0 || s.shift > 0 || s.shear > 0 || s.horizontalFlip || s.crop > 0;
}

/** Uniform in [-range, range]. */
const spread = (random: () => number, range: number) => (random() * 2 - 1) * range;

/** Draws one image's changes, Keras' way (zoom drawn for each axis); always DRAWS_PER_IMAGE numbers. */
export function drawParams(
  settings: AugmentationSettings,
  width: number,
  height: number,
  random: () => number,
): AugmentParams {
  return {
    rotation: spread(random, settings.rotation),
    shiftX: spread(random, settings.shift) * width,
    shiftY: spread(random, settings.shift) * height,
    shear: spread(random, settings.shear),
    zoomX: 1 + spread(random, settings.zoom),
    zoomY: 1 + spread(random, settings.zoom),
    flip: random() < 0.5 && settings.horizontalFlip,
    brightness: 1 + spread(random, settings.brightness),
  };
}

/**
 * The 8 numbers tf.image.transform takes for one image, [a0, a1, a2, b0, b1, b2, 0, 0]: output pixel
 * (x, y) reads the input at (a0 x + a1 y + a2, b0 x + b1 y + b2). In centred coordinates u the input
 * point is Rs (Sh Z F u - t): F mirrors x (when flipped: Keras flips after the affine transform), Z
 * zooms, Sh shears, t shifts, and Rs rotates, in the order of Keras' rotation @ shift @ shear @ zoom. A framing
 * window (scale s, offset o) is cropped first, so that point is then read at s (Rs (Sh Z F u - t)) + o.
 */
export function affineMatrix(
  p: AugmentParams,
  width: number,
  height: number,
  framing: FramingParams = WHOLE_FRAME,
): number[] {
  const rad = (p.rotation * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const shear = (p.shear * Math.PI) / 180;
  // Sh Z F: a 2x2 [[m00, m01], [m10, m11]].
  const f = p.flip ? -1 : 1;
  const m00 = f * p.zoomX;
  const m01 = -Math.sin(shear) * p.zoomY;
  const m10 = 0;
  const m11 = Math.cos(shear) * p.zoomY;
  // L = Rs (Sh Z F), with Rs = [[cos, -sin], [sin, cos]]: the content turns counter-clockwise on screen (y down).
  const s = framing.scale;
  const l00 = s * (cos * m00 - sin * m10);
  const l01 = s * (cos * m01 - sin * m11);
  const l10 = s * (sin * m00 + cos * m10);
  const l11 = s * (sin * m01 + cos * m11);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  // input = s (L (p - c) - Rs t) + c + o, L already times s
  const ox = cx - (l00 * cx + l01 * cy) - s * (cos * p.shiftX - sin * p.shiftY) + framing.offsetX;
  const oy = cy - (l10 * cx + l11 * cy) - s * (sin * p.shiftX + cos * p.shiftY) + framing.offsetY;
  return [l00, l01, ox, l10, l11, oy, 0, 0];
}

/**
 * A new tensor: `xs` ([n, h, w, 1], values 0..1) with each image changed at random as `settings`
 * ask. `xs` is left as it is (the caller still owns and disposes it); no other tensor outlives the call.
 */
export function augmentBatch(
  xs: tf.Tensor4D,
  settings: AugmentationSettings,
  random: () => number,
  acquisitionRandom: () => number = random,
  framingRandom: () => number = random,
): tf.Tensor4D {
  const [n, height, width] = xs.shape;
  const params = Array.from({ length: n }, () => drawParams(settings, width, height, random));
  const framing =
    settings.crop > 0 ? Array.from({ length: n }, () => framingParams(settings, width, height, framingRandom)) : null;
  const acquisition = isAcquisition(settings)
    ? Array.from({ length: n }, () => acquisitionParams(settings, acquisitionRandom))
    : null;
  // On the cpu backend this relies on our Transform (backends/cpuTransform.ts: the shipped one changes
  // only the first image of a batch), which TrainingBackends registers when the worker starts.
  return tf.tidy(() => {
    let out: tf.Tensor4D = xs;
    if (isGeometric(settings)) {
      const matrices = tf.tensor2d(
        params.flatMap((p, i) => affineMatrix(p, width, height, framing?.[i])),
        [n, 8],
        'float32',
      );
      out = tf.image.transform(out, matrices, 'bilinear', 'nearest');
    }
    if (settings.brightness > 0) {
      const factors = tf.tensor4d(
        params.map((p) => p.brightness),
        [n, 1, 1, 1],
        'float32',
      );
      out = tf.clipByValue(tf.mul(out, factors), 0, 1) as tf.Tensor4D;
    }
    if (acquisition) out = applyAcquisition(out, settings, acquisition);
    // A clone when nothing changed, so the result is always the caller's to dispose.
    return out === xs ? tf.clone(xs) : out;
  });
}

/**
 * The random numbers a run's augmentation draws: seeded by the run's seed, but a stream apart from the
 * one that shuffles batches, so turning augmentation on or off leaves the batch order as it was.
 */
export function augmentationRandom(seed: number): () => number {
  return mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ 0xa06e) >>> 0);
}

/** The acquisition changes' stream (contrast, gamma, blur, noise): apart from both of the above. */
export function acquisitionRandom(seed: number): () => number {
  return mulberry32((Math.imul(seed >>> 0, 0x85ebca6b) ^ 0x5ac9) >>> 0);
}

/** The framing's stream (crop): apart from all of the above, so turning it on leaves their draws as they were. */
export function framingRandom(seed: number): () => number {
  return mulberry32((Math.imul(seed >>> 0, 0x27d4eb2f) ^ 0x7f4a) >>> 0);
}

/** Augments batch after batch as a run seeded with `seed` does: each kind of change from its own stream. */
export function seededAugmenter(settings: AugmentationSettings, seed: number): (xs: tf.Tensor4D) => tf.Tensor4D {
  const geometry = augmentationRandom(seed);
  const acquisition = acquisitionRandom(seed);
  const framing = framingRandom(seed);
  return (xs) => augmentBatch(xs, settings, geometry, acquisition, framing);
}
