import type { ImageSet, ManifestRow, SplitName } from '../core/types';
import type { ZipEntryRef } from './decodeProtocol';
import type { DatasetHealth } from './health';
import type { DicomTags } from './dicom/tags';

/** Why an archive entry was not used as an image. */
export type SkipReason =
  | 'folder'
  | 'macos-resource'
  | 'hidden-file'
  | 'not-an-image'
  | 'no-class-folder'
  | 'duplicate'
  | 'unsafe-path'
  | 'decode-failed'
  /** Declared or actual uncompressed size over the cap, or an absurd compression ratio (zip bomb). */
  | 'too-large'
  /** A DICOM file that cannot be used (no pixel data, an unsupported transfer syntax, colour, damage): detail says why. */
  | 'dicom-unusable'
  /** With a labels file: an image no row of it names. */
  | 'unlabelled';

/** One image file found in the archive (or folder), not yet decoded. */
export interface ImageEntry {
  /** Path as stored in the archive, for messages and the predictions table. */
  path: string;
  split: SplitName;
  className: string;
  /** The compressed bytes are read lazily: nothing is held in memory until this is called. */
  read(): Promise<Blob>;
  /** Set for a zip entry: where a decode worker finds it, to read and inflate it itself. */
  zip?: ZipEntryRef;
}

export interface SkippedEntry {
  path: string;
  reason: SkipReason;
  detail?: string;
}

/** What an archive holds, before decoding: the basis of the `Dataset summary` table. */
export interface DatasetIndex {
  /** Sorted as Keras sorts class folders; the model's output order. */
  classNames: string[];
  entries: ImageEntry[];
  skipped: SkippedEntry[];
}

/** counts[split][className] = images in that folder. */
export type SplitCounts = Record<SplitName, Record<string, number>>;

/** How the validation images were chosen, said in the page. */
export interface ValidationPlan {
  source: 'folder' | 'held-out';
  /** e.g. "10% of train held out (stratified, seed 1): the val folder has fewer than 10 images a class" */
  description: string;
}

/** Decoded, ready to train: one ImageSet a split, plus what the page shows. */
export interface DecodedDataset {
  stats: LoadStats;
  classNames: string[];
  size: number;
  train: ImageSet;
  validation: ImageSet;
  test: ImageSet | null;
  /** File path of each test image, in ImageSet order (for per-image predictions). */
  testPaths: string[];
  /** File path of each validation image, in ImageSet order: the per-image figures when there is no test split. */
  validationPaths: string[];
  /** Every decoded image's path, split (after the hold-outs), class and patient: the PyTorch bundle's manifest. None for generated data. */
  manifest?: ManifestRow[];
  validationPlan: ValidationPlan;
  /** How the test split was held out of train, when the archive has no test folder and a hold-out was asked for. */
  testPlan?: string;
  /** Images decoded per split folder (before the validation and test hold-outs): failed ones are not counted. */
  counts: SplitCounts;
  /** Patients, leaks across split folders, duplicates, class balance and stored sizes (the `Dataset health` region). */
  health: DatasetHealth;
  skipped: SkippedEntry[];
  /**
   * Up to 24 train images to show in the sample grid: pixels at `size`, their label, and their index in
   * the train split (the augmentation preview asks the worker for these very images by it).
   */
  samples: { pixels: Uint8Array; label: string; path: string; trainIndex: number; dicom?: DicomTags }[];
  /** DICOM files among the decoded images, and their modalities (`Modality` tag; `unknown` when absent); null when none. */
  dicom?: DicomSummary | null;
  /** With a labels file: its rows matched, and the rows and files left unmatched. */
  labels?: LabelsReport;
}

export interface DicomSummary {
  images: number;
  modalities: Record<string, number>;
}

/** Progress of reading and decoding, for the `Loading dataset` progress bar. */
export interface LoadProgress {
  /** listing: entries of the archive's table of contents; decoding: images read and decoded. */
  phase: 'listing' | 'decoding' | 'done';
  done: number;
  total: number;
  /** Milliseconds since this phase began (for images per second and the time left). */
  elapsedMs: number;
  /** Compressed bytes read so far. */
  bytesRead: number;
}

/** What a load cost, shown under the summary and read by `bench:ingest`. */
export interface LoadStats {
  /** Reading the archive's table of contents (or walking the files), milliseconds. */
  listMs: number;
  /** Reading and decoding every image, wall-clock milliseconds. */
  decodeMs: number;
  /** Entries listed, junk and duplicates included. */
  entries: number;
  /** Images decoded and kept. */
  images: number;
  /** Compressed bytes read. */
  bytesRead: number;
  /** Time spent waiting for image bytes, summed over the images read in parallel. */
  readMs: number;
  /** Stored pixels of the decoded images (width x height from their headers), for megapixels per second. */
  sourcePixels: number;
}

/** What matching a labels table to the files found (labelsFile.ts). */
export interface LabelsReport {
  name: string;
  rows: number;
  matched: number;
  unmatchedRows: { line: number; path: string; reason: string }[];
  unmatchedFiles: string[];
}
