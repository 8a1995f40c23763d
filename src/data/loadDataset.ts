/**
 * Loads a dropped dataset for the page: listed, indexed, split by patient and decoded, with its samples, manifest,
 * counts, health report and load figures.
 */
import type { ArchiveEntry, ArchiveLimits } from './archive';
import { listSource } from './listSource';
import { classifyEntries, indexEntries } from './datasetIndex';
import { DecodePool, JOBS_PER_WORKER, type DecodedImage } from './decodePool';
import { matchLabels, type LabelsTable } from './labelsFile';
import { hashAll, readDicomPatients, sourceOf } from './readPatients';
import { decodeSplits, type DecodeEntryFn, type DecodeMeter } from './decodeSplits';
import { countDecoded, dicomSummary, factsOf, skipReasonOf } from './decodedFacts';
import { analyseHealth } from './health';
import { crc32Of, pixelHash } from './imageHash';
import { meanImageDetail } from '../core/imageDetailSpec';
import { groupIds, groupKeyFunction, type Grouping } from './patients';
import { DatasetError, messageOf } from './errors';
import { MIN_VALIDATION_PER_CLASS, pickSamples, planValidation } from './splits';
import { mulberry32 } from '../core/random';
import { timeSlicer } from '../core/timeSlicer';
import { holdOutTest, holdOutTestByPattern } from './testHoldout';
import type { DecodedDataset, LoadProgress, LoadStats, SkippedEntry } from './types';

/** Decodes one image file to `size` x `size` grey bytes (the pool's `decode`, or a stand-in in tests). */
export type DecodeFn = (blob: Blob, size: number) => Promise<DecodedImage>;

export interface LoadOptions {
  /** Side of the square images, in pixels. */
  size: number;
  /** Seeds the validation hold-out and the sample grid. Default 1. */
  seed?: number;
  /**
   * Share of each class of train held out for validation when the val folder is too small
   * (planValidation): above 0, at most 0.5. Default 0.1.
   */
  validationFraction?: number;
  /** Share of each class of train held out as the test split when the archive has no test folder (0 = none, the default). */
  testHoldout?: number;
  /** A regular expression on file names: the matching train images (whole patients) are the test split instead of `testHoldout`'s share. */
  testPattern?: string;
  /** How images are grouped into patients for the hold-outs, the health report and the worker. Default: by patient. */
  grouping?: Grouping;
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
  /** A labels table (labelsFile.ts): it labels, splits and groups the files it names, instead of their folders. */
  labels?: LabelsTable;
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
export async function loadDataset(
  source: Blob | File[] | ArchiveEntry[],
  options: LoadOptions,
): Promise<DecodedDataset> {
  // A pool made here is ended whatever happens (its workers start with the first DICOM head or image).
  const owned = options.decode || options.pool ? null : new DecodePool();
  try {
    return await load(source, options, options.decode ? null : (options.pool ?? owned));
  } finally {
    owned?.dispose();
  }
}

async function load(
  source: Blob | File[] | ArchiveEntry[],
  options: LoadOptions,
  pool: DecodePool | null,
): Promise<DecodedDataset> {
  const { size, seed = 1, onProgress, signal } = options;
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`loadDataset: size must be a positive whole number, not ${size}`);
  const progress = throttledProgress(onProgress);
  const listStarted = performance.now();
  const listed = (done: number, total: number) =>
    progress({ phase: 'listing', done, total, elapsedMs: performance.now() - listStarted, bytesRead: 0 }, done === 0);
  listed(0, 0);

  const entries = await listSource(source, options.limits, listed);
  signal?.throwIfAborted();
  const listMs = performance.now() - listStarted;
  const entryCount = entries.length;
  // This runs on the page's thread: between steps over thousands of entries, the page gets it back (timeSlicer).
  const slice = timeSlicer();
  const labelled = options.labels ? matchLabels(entries, options.labels) : null;
  const index = indexEntries(entries, labelled ? labelled.classes : await classifyEntries(entries, slice));
  await slice();
  const grouping = options.grouping ?? { groupBy: 'patient', groupPattern: '' };
  // DICOM files name their patient: read before the splits are planned, so that no patient is split.
  const dicomPatients =
    grouping.groupBy === 'patient' && pool
      ? await readDicomPatients(index.entries, pool, signal)
      : new Map<string, string>();
  // A labels table's patient column comes first; it is hashed like PatientID, so no id is kept in clear.
  const tablePatients =
    grouping.groupBy === 'patient' && labelled ? await hashAll(labelled.patients) : new Map<string, string>();
  const byName = groupKeyFunction(grouping);
  const keyOf = byName && ((path: string) => tablePatients.get(path) ?? dicomPatients.get(path) ?? byName(path));
  const testHoldout = options.testPattern
    ? holdOutTestByPattern(index.entries, index.classNames, new RegExp(options.testPattern), keyOf)
    : holdOutTest(index.entries, index.classNames, options.testHoldout ?? 0, seed, keyOf);
  await slice();
  const { train, validation, test, plan } = planValidation(
    testHoldout.entries,
    index.classNames,
    seed,
    options.validationFraction,
    keyOf,
  );
  if (validation.length === 0) {
    throw new DatasetError(
      `There are too few images to set any aside for validation. Put at least 2 images of each class in train/, or at least ${MIN_VALIDATION_PER_CLASS} of each in val/.`,
    );
  }
  // The plan (13-24 ms for the 5,216 images of the real train split) and the pixel buffers (10-36 ms) in one task were 56-60 ms.
  await slice();

  let decodeEntry: DecodeEntryFn;
  // Enough in flight to keep every worker's queue full, and no more.
  let concurrency = options.concurrency ?? 16;
  if (options.decode) {
    const decode = options.decode;
    decodeEntry = async (entry, side) => {
      const started = performance.now();
      const blob = await entry.read();
      const readMs = performance.now() - started;
      const image = await decode(blob, side);
      // No decode worker here (Node, tests): the fingerprints it would have made are made here.
      const fileCrc32 = crc32Of(new Uint8Array(await blob.arrayBuffer()));
      return {
        bytesRead: blob.size,
        readMs,
        fileCrc32,
        pixelHash: pixelHash(image.pixels),
        detail: meanImageDetail(image.pixels, side, side),
        ...image,
      };
    };
  } else {
    const workers = pool!;
    // Zip entries are sliced out (and inflated) by the workers themselves; loose files are handed over
    // as they are (a File is a reference, not a copy); anything else zip.js reads here.
    decodeEntry = async (entry, side) => workers.decodeSource(await sourceOf(entry), side);
    concurrency = options.concurrency ?? workers.workers * JOBS_PER_WORKER;
  }
  const skipped: SkippedEntry[] = [...index.skipped];
  const decodeStarted = performance.now();
  const meter: DecodeMeter = { bytesRead: 0, readMs: 0, sourcePixels: 0 };
  const decoded = await decodeSplits({ train, validation, test }, index.classNames, size, {
    decodeEntry,
    concurrency,
    signal,
    meter,
    slice,
    onFailed: (entry, error) =>
      skipped.push({ path: entry.path, reason: skipReasonOf(error), detail: messageOf(error) }),
    onProgress: (done, total) =>
      progress(
        { phase: 'decoding', done, total, elapsedMs: performance.now() - decodeStarted, bytesRead: meter.bytesRead },
        done === 0,
      ),
  });
  const decodeMs = performance.now() - decodeStarted;
  await slice();

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
  await slice();
  const sampleIndices = pickSamples(trainSet.labels, index.classNames.length, SAMPLE_COUNT, mulberry32(seed));
  const samples = sampleIndices.map((i) => ({
    pixels: trainSet.pixels.slice(i * size * size, (i + 1) * size * size),
    label: index.classNames[trainSet.labels[i]],
    path: decoded.train.entries[i].path,
    trainIndex: i,
    ...(decoded.train.facts[i].dicom ? { dicom: decoded.train.facts[i].dicom } : {}),
  }));
  await slice();
  const folderOf = new Map(index.entries.map((e) => [e.path, e.split]));
  const facts = factsOf(decoded, folderOf, keyOf);
  await slice();
  const ids = groupIds(
    facts.map((f) => f.path),
    keyOf,
  );
  if (ids) {
    // One numbering across splits, so the worker can tell a patient anywhere by its id.
    let at = 0;
    for (const split of ['train', 'validation', 'test'] as const) {
      decoded[split].set.groups = ids.ids.slice(at, (at += decoded[split].set.count));
    }
  }
  await slice();
  const manifest = (['train', 'validation', 'test'] as const).flatMap((split) =>
    decoded[split].entries.map((entry, i) => ({
      path: entry.path,
      split,
      className: index.classNames[decoded[split].set.labels[i]],
      group: keyOf ? keyOf(entry.path) : null,
    })),
  );
  await slice();
  const counts = countDecoded(facts, index.classNames);
  const health = analyseHealth(facts, index.classNames);
  await slice();
  const total = train.length + validation.length + test.length;
  progress({ phase: 'done', done: total, total, elapsedMs: decodeMs, bytesRead: meter.bytesRead }, true);
  const stats: LoadStats = {
    listMs,
    decodeMs,
    entries: entryCount,
    images: trainSet.count + decoded.validation.set.count + decoded.test.set.count,
    ...meter,
  };
  return {
    stats,
    classNames: index.classNames,
    size,
    train: trainSet,
    validation: decoded.validation.set,
    test: decoded.test.set.count > 0 ? decoded.test.set : null,
    testPaths: decoded.test.set.count > 0 ? decoded.test.entries.map((e) => e.path) : [],
    validationPaths: decoded.validation.entries.map((e) => e.path),
    manifest,
    validationPlan: plan,
    ...(testHoldout.description ? { testPlan: testHoldout.description } : {}),
    counts,
    health,
    skipped,
    samples,
    dicom: dicomSummary(decoded),
    ...(labelled ? { labels: labelled.report } : {}),
  };
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
