/**
 * The framing augmentation's draw (the `Crop` setting), pure so that the worker's augmentation (worker/augment.ts)
 * and the PyTorch bundle's checks share one statement of it: half the images, at random, are cropped to a square
 * window of 1 - crop .. 1 times the side, anywhere inside the image, and scaled back to the full size.
 */
import type { AugmentationSettings } from './types';

/** One image's framing: the window it is cropped to (scale 1 and no offset: the whole image). */
export interface FramingParams {
  /** The window's side as a share of the image's (1 - crop .. 1). */
  scale: number;
  /** Pixels from the image's centre to the window's (inside the image). */
  offsetX: number;
  offsetY: number;
}

/** No crop: the whole image. */
export const WHOLE_FRAME: Readonly<FramingParams> = { scale: 1, offsetX: 0, offsetY: 0 };

/** Random numbers each image draws from the framing stream, whatever is on. */
export const FRAMING_DRAWS_PER_IMAGE = 4;

/**
 * Draws one image's framing; always FRAMING_DRAWS_PER_IMAGE numbers. Half the images keep the whole frame, so the
 * films as they come stay as common in training as the cropped ones.
 */
export function framingParams(
  settings: AugmentationSettings,
  width: number,
  height: number,
  random: () => number,
): FramingParams {
  const cropped = random() < 0.5 && settings.crop > 0;
  const scale = 1 - random() * settings.crop;
  const offsetX = ((random() * 2 - 1) * ((1 - scale) * (width - 1))) / 2;
  const offsetY = ((random() * 2 - 1) * ((1 - scale) * (height - 1))) / 2;
  return cropped ? { scale, offsetX, offsetY } : WHOLE_FRAME;
}
