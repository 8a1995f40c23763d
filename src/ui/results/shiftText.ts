/** The Results' words for the acquisition-shift check (AcquisitionShifts.tsx). */
import type { AcquisitionShift } from '../../core/acquisitionShifts';
import { worstShift, type ShiftRow } from '../../eval/shiftMetrics';

/** How the summary names a shift's images. */
const IMAGES_OF: Record<AcquisitionShift, string> = {
  'as is': 'Images as they are',
  blurred: 'Blurred images',
  'low resolution': 'Low-resolution images',
  'tighter framing': 'Images framed tighter',
  'contrast halved': 'Images with their contrast halved',
  'brighter (gamma 0.5)': 'Brighter images (gamma 0.5)',
  'darker (gamma 2)': 'Darker images (gamma 2)',
  noise: 'Noisy images',
  inverted: 'Inverted images',
};

/**
 * The `Augmentation` field that trains on a shift's kind of image (docs/generalisation.md has what each did in the
 * leave-one-source-out study, and what it cost elsewhere). Inversion has none: no site makes such films, and the
 * unlike-training detector flags them.
 */
const LEVER_OF: Record<AcquisitionShift, string | null> = {
  'as is': null,
  blurred: 'Blur',
  'low resolution': 'Blur',
  'tighter framing': 'Crop',
  'contrast halved': 'Contrast',
  'brighter (gamma 0.5)': 'Gamma',
  'darker (gamma 2)': 'Gamma',
  noise: 'Noise',
  inverted: null,
};

/** A share as a whole percentage; `n/a` without a detector. */
export const percent = (share: number | null) => (share === null ? 'n/a' : `${Math.round(share * 100)}%`);

/** The shift that hurts most, in words, and what it means. */
export function shiftSummary(rows: readonly ShiftRow[]): string {
  const worst = worstShift(rows);
  const meaning =
    'A film from another scanner or site can look like these: this model’s figures there may be far below its test figures.';
  if (!worst)
    return `No shift lowers the model’s figures below those on the images as they are (${rows[0]?.count ?? 0} images). ${meaning}`;
  const { row, metric, from, to } = worst;
  const flagged =
    row.unlikeShare === null
      ? 'the model carries no unlike-training detector'
      : `the unlike-training detector flags ${percent(row.unlikeShare)} of them`;
  const lever = LEVER_OF[row.shift];
  const remedy = lever
    ? ` The ${lever} field of Augmentation trains the model on such images (more of it, if it is on already).`
    : '';
  return `${IMAGES_OF[row.shift]}: the model’s ${metric} falls from ${from.toFixed(2)} to ${to.toFixed(2)} (${row.count} images); ${flagged}. ${meaning}${remedy}`;
}
