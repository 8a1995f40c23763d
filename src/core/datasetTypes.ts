/**
 * A loaded dataset as the page, the data side and the workers see it: the splits, their decoded images, the
 * manifest of the files they came from. No DOM, no tfjs.
 */

export type SplitName = 'train' | 'validation' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'test'];

/** Decoded images of one split: one byte a pixel (grey), `count` squares of `size` x `size`, row-major. */
export interface ImageSet {
  size: number;
  count: number;
  pixels: Uint8Array;
  /** Class index of each image, in `classNames` order. */
  labels: Uint8Array;
  /**
   * The patient (group) of each image, as an id shared by the images of one patient, where the file names
   * say who it is (data/patients.ts); absent when unknown. Splits never share a group, and confidence
   * intervals resample groups rather than images.
   */
  groups?: Uint32Array;
}

/** A decoded dataset ready to train on: what the page hands the training worker, and what it keeps. */
export interface Splits {
  /** Sorted as Keras sorts class folders; the model's output order. */
  classNames: string[];
  train: ImageSet;
  validation: ImageSet;
  test: ImageSet | null;
}

/** One image of a loaded dataset as the page used it (the PyTorch bundle's manifest.csv). */
export interface ManifestRow {
  /** The image's path inside the user's dataset (the archive's path, or the dropped folder's). */
  path: string;
  split: SplitName;
  className: string;
  /** The patient (group) the page kept on one side of every split; null when the file name gives none. */
  group: string | null;
}
