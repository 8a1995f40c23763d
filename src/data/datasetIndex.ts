import { SPLIT_NAMES, type SplitName } from '../core/types';
import type { ArchiveEntry } from './archive';
import { DatasetError, EXPECTED_LAYOUT } from './errors';
import { classifyPath, pathSegments, type PathClass } from './paths';
import type { DatasetIndex, ImageEntry, SkippedEntry, SplitCounts } from './types';

/** Keras sorts class folders with Python's sorted(): plain code-point order, upper case first. */
export function compareKeras(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Labels are stored one byte an image. */
export const MAX_CLASSES = 256;

interface Candidate {
  entry: ArchiveEntry;
  image: Extract<PathClass, { kind: 'image' }>;
  depth: number;
}

/**
 * Sorts the files of a source into labelled images and skipped files.
 * The result does not depend on the order the files were listed in: entries come out sorted by path,
 * so the seeded validation split is the same for a zip and for the same folder dropped loose.
 * @throws DatasetError when there are no images, or fewer than two classes.
 */
export function indexEntries(
  entries: ArchiveEntry[],
  classes: readonly PathClass[] = classifyAll(entries),
): DatasetIndex {
  if (classes.length !== entries.length) throw new Error('indexEntries: one class of path per entry.');
  const skipped: SkippedEntry[] = [];
  // Keyed by split, class and file name: the Kaggle download holds the whole tree twice
  // (chest_xray/... and chest_xray/chest_xray/...), and counting both would leak test images into train.
  const byKey = new Map<string, Candidate[]>();
  for (const [i, entry] of entries.entries()) {
    const found = classes[i];
    if (found.kind === 'skip') {
      skipped.push({ path: entry.path, reason: found.reason });
      continue;
    }
    if (entry.skip) {
      skipped.push({ path: entry.path, ...entry.skip });
      continue;
    }
    const key = `${found.split}\u0000${found.className}\u0000${found.fileName}`; // NUL never occurs in a name
    const candidate = { entry, image: found, depth: pathSegments(entry.path).length };
    const list = byKey.get(key);
    if (list) list.push(candidate);
    else byKey.set(key, [candidate]);
  }

  const kept: ImageEntry[] = [];
  for (const candidates of byKey.values()) {
    // Keep the shallowest copy (then the first by path), whatever order the source listed them in.
    candidates.sort((a, b) => a.depth - b.depth || compareKeras(a.entry.path, b.entry.path));
    const [best, ...copies] = candidates;
    kept.push({
      path: best.entry.path,
      split: best.image.split,
      className: best.image.className,
      read: () => best.entry.read(),
      ...(best.entry.zip ? { zip: best.entry.zip } : {}),
    });
    for (const copy of copies)
      skipped.push({ path: copy.entry.path, reason: 'duplicate', detail: `same as ${best.entry.path}` });
  }
  kept.sort((a, b) => compareKeras(a.path, b.path));
  skipped.sort((a, b) => compareKeras(a.path, b.path));

  if (kept.length === 0) throw noImagesError(entries.length, skipped);
  const classNames = [...new Set(kept.map((e) => e.className))].sort(compareKeras);
  if (classNames.length < 2) {
    throw new DatasetError(
      `Only one class folder (${classNames[0]}) was found; a classifier needs at least two, e.g. NORMAL and PNEUMONIA, each a folder of its images inside train/ (and test/, val/).`,
    );
  }
  // Labels are bytes; and hundreds of "classes" nearly always mean the images sit one per folder.
  if (classNames.length > MAX_CLASSES) {
    throw new DatasetError(
      `${classNames.length} class folders were found; at most ${MAX_CLASSES} are supported. Each class must be one folder holding many images, e.g. chest_xray/train/NORMAL/*.jpeg.`,
    );
  }
  const trainable = new Set(kept.filter((e) => e.split !== 'test').map((e) => e.className));
  const testOnly = classNames.filter((name) => !trainable.has(name));
  if (testOnly.length > 0) {
    throw new DatasetError(
      testOnly.length === 1
        ? `The class ${testOnly[0]} has images only in the test folder, so the model could never learn it. Add its training images under train/${testOnly[0]}/, or remove test/${testOnly[0]}/.`
        : `The classes ${list(testOnly)} have images only in the test folder, so the model could never learn them. Add their training images under train/, or remove them from test/.`,
    );
  }
  return { classNames, entries: kept, skipped };
}

function classOf(entry: ArchiveEntry): PathClass {
  return entry.directory ? { kind: 'skip', reason: 'folder' } : classifyPath(entry.path);
}

function classifyAll(entries: readonly ArchiveEntry[]): PathClass[] {
  return entries.map(classOf);
}

/**
 * What indexEntries reads of each path, made in runs between which `pause` may give the thread back:
 * on the page's thread a few thousand paths took 30–110 ms in one go (bench:smooth, the real train split).
 */
export async function classifyEntries(
  entries: readonly ArchiveEntry[],
  pause: () => Promise<void>,
): Promise<PathClass[]> {
  const classes: PathClass[] = [];
  for (let i = 0; i < entries.length; i++) {
    classes.push(classOf(entries[i]));
    if (i % 256 === 255) await pause();
  }
  return classes;
}

function noImagesError(total: number, skipped: SkippedEntry[]): DatasetError {
  if (total === 0) return new DatasetError(`This archive is empty. ${EXPECTED_LAYOUT}`);
  const count = (reason: SkippedEntry['reason']) => skipped.filter((s) => s.reason === reason).length;
  const loose = count('no-class-folder');
  if (loose > 0) {
    return new DatasetError(
      `${loose} image${loose === 1 ? ' was' : 's were'} found, but none inside a class folder: the folder directly holding an image names its class. ${EXPECTED_LAYOUT}`,
    );
  }
  const other = count('not-an-image');
  return new DatasetError(
    `No images were found among the ${total} files${other > 0 ? ` (${other} are not .jpg, .jpeg, .png, .bmp, .webp or .gif files)` : ''}. ${EXPECTED_LAYOUT}`,
  );
}

function list(names: string[]): string {
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Images per split folder and class, every split and every class present (0 where none). */
export function countBySplit(index: Pick<DatasetIndex, 'classNames' | 'entries'>): SplitCounts {
  const counts = emptyCounts(index.classNames);
  for (const entry of index.entries) counts[entry.split][entry.className] += 1;
  return counts;
}

/** A SplitCounts of zeros, with every split and class. */
export function emptyCounts(classNames: readonly string[]): SplitCounts {
  const row = () => Object.fromEntries(classNames.map((name) => [name, 0]));
  return Object.fromEntries(SPLIT_NAMES.map((split) => [split, row()])) as Record<SplitName, Record<string, number>>;
}
