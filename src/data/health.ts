/**
 * The `Dataset health` report: what in a dataset can make a model look better than it is, or train badly,
 * found before training. Pure analysis of facts the loader already has (paths, splits, patients, and the
 * fingerprints and stored sizes the decode workers reported); the page says it in words (ui/dataset/DatasetHealth.tsx).
 */
import { SPLIT_NAMES, type SplitName } from '../core/types';
import { classShortcuts, type ClassShortcut } from './classShortcuts';

/** One decoded image, as the report sees it. */
export interface ImageFacts {
  path: string;
  /** The split folder it was found in (train/, val/, test/). */
  folder: SplitName;
  /** The split it is used in, after the validation and test hold-outs. */
  split: SplitName;
  className: string;
  /** Its patient key; null when the name says none (or grouping is off). */
  patient: string | null;
  /** Size and CRC-32 of its file; null when unknown. */
  file: string | null;
  /** Hash of its decoded grey pixels; null when unknown. */
  pixels: string | null;
  /** Stored size from the file's header; 0 when unknown. */
  width: number;
  height: number;
  /** Its fine detail at the model's input (core/imageDetailSpec.ts' meanImageDetail); null or absent when unknown. */
  detail?: number | null;
}

/** A patient with images in more than one split folder: leakage in the archive itself. */
export interface CrossFolderPatient {
  patient: string;
  /** Images of the patient in each folder it appears in. */
  folders: Partial<Record<SplitName, number>>;
}

/** Images that are the same picture: byte for byte (`file`), or the same pixels in different files (`pixels`). */
export interface DuplicateSet {
  kind: 'file' | 'pixels';
  images: { path: string; split: SplitName }[];
  /** True when the copies are used in different splits: the model is then tested on what it trained on. */
  acrossSplits: boolean;
}

export interface SizeStats {
  /** Images whose stored size is known. */
  known: number;
  width: { min: number; median: number; max: number };
  height: { min: number; median: number; max: number };
  /** Distinct width x height pairs. */
  distinct: number;
}

export interface DatasetHealth {
  images: number;
  /** Distinct patients in all, per split folder and per split as used; null when no file name gave a patient. */
  patients: { total: number; byFolder: Record<SplitName, number>; bySplit: Record<SplitName, number> } | null;
  crossFolderPatients: CrossFolderPatient[];
  duplicates: DuplicateSet[];
  /** Images of each class (in classNames order) in each split as used. */
  classCounts: Record<SplitName, number[]>;
  sizes: SizeStats | null;
  /** False when the images carry no file fingerprints (the demo set is drawn, not read). */
  filesHashed: boolean;
  /** What besides the disease tells the classes apart: fine detail and stored size (classShortcuts.ts). */
  shortcuts: ClassShortcut[];
}

function groupBy<K>(facts: readonly ImageFacts[], keyOf: (f: ImageFacts) => K | null): Map<K, ImageFacts[]> {
  const groups = new Map<K, ImageFacts[]>();
  for (const fact of facts) {
    const key = keyOf(fact);
    if (key === null) continue;
    const list = groups.get(key);
    if (list) list.push(fact);
    else groups.set(key, [fact]);
  }
  return groups;
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Byte-identical files, then files that differ but decode to the same pixels (a copy saved again). Sets
 * across splits first, then by first path, so the leaks lead the list.
 */
export function findDuplicates(facts: readonly ImageFacts[]): DuplicateSet[] {
  const sets: DuplicateSet[] = [];
  const toSet = (kind: DuplicateSet['kind'], list: ImageFacts[]): DuplicateSet => {
    const images = list.map(({ path, split }) => ({ path, split })).sort(byPath);
    return { kind, images, acrossSplits: new Set(list.map((f) => f.split)).size > 1 };
  };
  for (const list of groupBy(facts, (f) => f.file).values()) if (list.length > 1) sets.push(toSet('file', list));
  for (const list of groupBy(facts, (f) => f.pixels).values()) {
    // Only one image of each byte-identical file: those are reported above already.
    const files = [...groupBy(list, (f) => f.file ?? f.path).values()].map((same) => same[0]);
    if (files.length > 1) sets.push(toSet('pixels', files));
  }
  return sets.sort((a, b) => Number(b.acrossSplits) - Number(a.acrossSplits) || byPath(a.images[0], b.images[0]));
}

/** Patients found in more than one split folder, by name. */
export function crossFolderPatients(facts: readonly ImageFacts[]): CrossFolderPatient[] {
  const found: CrossFolderPatient[] = [];
  for (const [patient, list] of groupBy(facts, (f) => f.patient)) {
    const folders: Partial<Record<SplitName, number>> = {};
    for (const fact of list) folders[fact.folder] = (folders[fact.folder] ?? 0) + 1;
    if (Object.keys(folders).length > 1) found.push({ patient, folders });
  }
  return found.sort((a, b) => (a.patient < b.patient ? -1 : a.patient > b.patient ? 1 : 0));
}

function spread(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

/** Spread of the stored widths and heights; null when no header said. */
export function sizeStats(facts: readonly ImageFacts[]): SizeStats | null {
  const known = facts.filter((f) => f.width > 0 && f.height > 0);
  if (known.length === 0) return null;
  return {
    known: known.length,
    width: spread(known.map((f) => f.width)),
    height: spread(known.map((f) => f.height)),
    distinct: new Set(known.map((f) => `${f.width}x${f.height}`)).size,
  };
}

function patientCounts(facts: readonly ImageFacts[], splitOf: (f: ImageFacts) => SplitName): Record<SplitName, number> {
  const sets = Object.fromEntries(SPLIT_NAMES.map((s) => [s, new Set<string>()])) as Record<SplitName, Set<string>>;
  // An image without a patient key counts as a patient of its own.
  for (const fact of facts) sets[splitOf(fact)].add(fact.patient ?? `\0${fact.path}`);
  return Object.fromEntries(SPLIT_NAMES.map((s) => [s, sets[s].size])) as Record<SplitName, number>;
}

/** The whole report for the decoded images of a dataset. */
export function analyseHealth(facts: readonly ImageFacts[], classNames: readonly string[]): DatasetHealth {
  const classCounts = Object.fromEntries(SPLIT_NAMES.map((s) => [s, classNames.map(() => 0)])) as Record<
    SplitName,
    number[]
  >;
  const classIndex = new Map(classNames.map((name, i) => [name, i]));
  for (const fact of facts) classCounts[fact.split][classIndex.get(fact.className) ?? 0] += 1;
  const known = facts.some((f) => f.patient !== null);
  return {
    images: facts.length,
    patients: known
      ? {
          total: new Set(facts.map((f) => f.patient ?? `\0${f.path}`)).size,
          byFolder: patientCounts(facts, (f) => f.folder),
          bySplit: patientCounts(facts, (f) => f.split),
        }
      : null,
    crossFolderPatients: crossFolderPatients(facts),
    duplicates: findDuplicates(facts),
    classCounts,
    sizes: sizeStats(facts),
    filesHashed: facts.some((f) => f.file !== null),
    shortcuts: classShortcuts(facts, classNames),
  };
}
