import type { ImageSet, SplitName } from '../worker/protocol';
import { EntryTooLargeError, listFiles, listZip, looksLikeZip, type ArchiveEntry, type ArchiveLimits } from './archive';
import { countBySplit, indexEntries } from './datasetIndex';
import { DecodePool, JOBS_PER_WORKER } from './decodePool';
import { DatasetError, messageOf } from './errors';
import { MIN_VALIDATION_PER_CLASS, mulberry32, pickSamples, planValidation } from './splits';
import type { DecodedDataset, ImageEntry, LoadProgress, SkippedEntry } from './types';

/** Decodes one image file to `size` x `size` grey bytes (the pool's `decode`, or a stand-in in tests). */
export type DecodeFn = (blob: Blob, size: number) => Promise<Uint8Array>;

export interface LoadOptions {
  /** Side of the square images, in pixels. */
  size: number;
  /** Seeds the validation hold-out and the sample grid. Default 1. */
  seed?: number;
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
  /** Decoder workers to use (kept alive by the caller across loads); one is made and ended if absent. */
  pool?: DecodePool;
  /** Replaces the pool altogether, e.g. a decoder that runs in Node. */
  decode?: DecodeFn;
  /**
   * Images read and decoded at once (default: what keeps the pool's workers busy, else 16).
   * Bounds memory: each holds one compressed file until decoded.
   */
  concurrency?: number;
  /** Zip bomb caps (sizes and compression ratio); defaults in DEFAULT_ARCHIVE_LIMITS. */
  limits?: ArchiveLimits;
}

/** How many sample images the page shows. */
export const SAMPLE_COUNT = 24;
const PROGRESS_INTERVAL_MS = 100;

/**
 * Lists, indexes, splits and decodes a dataset: a zip (one Blob), loose files or a dropped folder
 * (File[] or ArchiveEntry[]). Images are read, decoded and dropped a few at a time, straight into one
 * preallocated buffer a split, so the compressed archive is never held in memory.
 * Images that cannot be decoded are skipped ('decode-failed') and the splits shrink to the rest.
 * @throws DatasetError when the source cannot be used; the signal's reason when aborted.
 */
export async function loadDataset(source: Blob | File[] | ArchiveEntry[], options: LoadOptions): Promise<DecodedDataset> {
  const { size, seed = 1, onProgress, signal } = options;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`loadDataset: size must be a positive whole number, not ${size}`);
  const progress = throttledProgress(onProgress);
  progress({ phase: 'listing', done: 0, total: 0 }, true);

  const entries = await listSource(source, options.limits);
  signal?.throwIfAborted();
  const index = indexEntries(entries);
  const counts = countBySplit(index);
  const { train, validation, test, plan } = planValidation(index.entries, index.classNames, seed);
  if (validation.length === 0) {
    throw new DatasetError(
      `There are too few images to set any aside for validation. Put at least 2 images of each class in train/, or at least ${MIN_VALIDATION_PER_CLASS} of each in val/.`,
    );
  }

  let owned: DecodePool | null = null;
  let decode = options.decode;
  // Enough in flight to keep every worker's queue full, and no more.
  let concurrency = options.concurrency ?? 16;
  if (!decode) {
    const pool = options.pool ?? (owned = new DecodePool());
    decode = (blob, side) => pool.decode(blob, side);
    concurrency = options.concurrency ?? pool.workers * JOBS_PER_WORKER;
  }
  const skipped: SkippedEntry[] = [...index.skipped];
  let decoded: Record<SplitName, DecodedSplit>;
  try {
    decoded = await decodeSplits({ train, validation, test }, index.classNames, size, {
      decode,
      concurrency,
      signal,
      onFailed: (entry, error) =>
        skipped.push({ path: entry.path, reason: error instanceof EntryTooLargeError ? 'too-large' : 'decode-failed', detail: messageOf(error) }),
      onProgress: (done, total) => progress({ phase: 'decoding', done, total }, done === 0),
    });
  } finally {
    owned?.dispose();
  }

  // Sorted so the list (and the failure quoted below) does not depend on which decode finished first.
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const failures = skipped.filter((s) => s.reason === 'decode-failed');
  for (const split of ['train', 'validation'] as const) {
    if (decoded[split].set.count > 0) continue;
    const first = failures[0] ? ` The first, ${failures[0].path}, failed with: ${failures[0].detail}` : '';
    throw new DatasetError(
      `None of the ${split === 'train' ? 'training' : 'validation'} images could be decoded.${first} Check that the files are JPEG or PNG images.`,
    );
  }

  const trainSet = decoded.train.set;
  const sampleIndices = pickSamples(trainSet.labels, index.classNames.length, SAMPLE_COUNT, mulberry32(seed));
  const samples = sampleIndices.map((i) => ({
    pixels: trainSet.pixels.slice(i * size * size, (i + 1) * size * size),
    label: index.classNames[trainSet.labels[i]],
    path: decoded.train.paths[i],
  }));
  const total = train.length + validation.length + test.length;
  progress({ phase: 'done', done: total, total }, true);
  return {
    classNames: index.classNames,
    size,
    train: trainSet,
    validation: decoded.validation.set,
    test: decoded.test.set.count > 0 ? decoded.test.set : null,
    testPaths: decoded.test.set.count > 0 ? decoded.test.paths : [],
    validationPlan: plan,
    counts,
    skipped,
    samples,
  };
}

/** A zip when the source is one Blob, or one file that is a zip; loose files otherwise. */
async function listSource(source: Blob | File[] | ArchiveEntry[], limits?: ArchiveLimits): Promise<ArchiveEntry[]> {
  if (source instanceof Blob) return listZip(source, limits);
  if (source.length === 1) {
    const only = source[0];
    const blob = only instanceof Blob ? only : await only.read();
    const name = only instanceof File ? only.name : only instanceof Blob ? '' : only.path;
    if (name.toLowerCase().endsWith('.zip') || (await looksLikeZip(blob))) return listZip(blob, limits);
  }
  return source.map((item) => (item instanceof Blob ? listFiles([item])[0] : item));
}

interface DecodedSplit {
  set: ImageSet;
  /** Path of each image of `set`, in order. */
  paths: string[];
}

interface DecodeRun {
  decode: DecodeFn;
  concurrency: number;
  signal?: AbortSignal;
  onFailed: (entry: ImageEntry, error: unknown) => void;
  onProgress: (done: number, total: number) => void;
}

/**
 * Decodes every split with at most `concurrency` images in flight, each read just before it is
 * decoded, its pixels written at its place in the split's buffer. Failed images leave a gap that is
 * closed at the end, so the order of each split is its input order whatever finished first.
 */
async function decodeSplits(
  splits: Record<SplitName, ImageEntry[]>,
  classNames: string[],
  size: number,
  run: DecodeRun,
): Promise<Record<SplitName, DecodedSplit>> {
  const area = size * size;
  const labelOf = new Map(classNames.map((name, i) => [name, i]));
  const names: SplitName[] = ['train', 'validation', 'test'];
  const buffers = names.map((split) => ({
    entries: splits[split],
    pixels: new Uint8Array(splits[split].length * area),
    ok: new Uint8Array(splits[split].length),
  }));
  const jobs = buffers.flatMap((buffer) => buffer.entries.map((_, i) => ({ buffer, i })));
  const total = jobs.length;
  let next = 0;
  let done = 0;
  let stop: unknown = null;
  run.onProgress(0, total);

  const worker = async () => {
    while (next < jobs.length && stop === null) {
      const { buffer, i } = jobs[next++];
      const entry = buffer.entries[i];
      try {
        run.signal?.throwIfAborted();
        const pixels = await run.decode(await entry.read(), size);
        run.signal?.throwIfAborted();
        if (pixels.length !== area) throw new Error(`The decoder returned ${pixels.length} pixels instead of ${area}.`);
        buffer.pixels.set(pixels, i * area);
        buffer.ok[i] = 1;
      } catch (error) {
        // Aborts and dataset-wide failures (a crashed decoder) end the load; a bad image is skipped.
        if (run.signal?.aborted || error instanceof DatasetError) {
          stop ??= run.signal?.aborted ? run.signal.reason : error;
          return;
        }
        run.onFailed(entry, error);
      }
      run.onProgress(++done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(run.concurrency, total)) }, worker));
  if (stop !== null) throw stop;

  const result = {} as Record<SplitName, DecodedSplit>;
  names.forEach((split, s) => {
    const { entries, pixels, ok } = buffers[s];
    const kept = entries.flatMap((_, i) => (ok[i] ? [i] : []));
    const set: ImageSet = { size, count: kept.length, pixels, labels: new Uint8Array(kept.length) };
    if (kept.length < entries.length) {
      set.pixels = new Uint8Array(kept.length * area);
      kept.forEach((from, to) => set.pixels.set(pixels.subarray(from * area, (from + 1) * area), to * area));
    }
    kept.forEach((from, to) => (set.labels[to] = labelOf.get(entries[from].className)!));
    result[split] = { set, paths: kept.map((i) => entries[i].path) };
  });
  return result;
}

/** Reports at most every PROGRESS_INTERVAL_MS, and always when `force` (phase changes, the end). */
function throttledProgress(onProgress: LoadOptions['onProgress']) {
  let last = -Infinity;
  return (progress: LoadProgress, force: boolean) => {
    if (!onProgress) return;
    const now = Date.now();
    if (!force && now - last < PROGRESS_INTERVAL_MS && progress.done !== progress.total) return;
    last = now;
    onProgress(progress);
  };
}
