/**
 * "Export for PyTorch": the files a person takes to a cluster when the dataset outgrows the tab. manifest.csv names
 * every image of the dataset (its path inside the dataset, split, class and patient group, exactly as the page split
 * them), train.py trains the page's network on them with PyTorch (one process, or many with torchrun) and writes a
 * model.zip the page's `Load model` takes, running the modules of xray_trainer/ beside it, settings.json carries the
 * page's settings and class order, and README.md says how to run it. Pure text: no tfjs, no zip (the caller packs the
 * files, a module's name holding its folder).
 */
import { seedPlan, snapshotPlan } from '../core/ensemble';
import { SPLIT_NAMES, type ManifestRow, type Settings } from '../core/types';
import { bundleReadme, snapshotsOf } from './pytorchBundleReadme';

export type { ManifestRow };

export interface BundleFile {
  name: string;
  text: string;
}

/** The script's files as text, by path (train.py and every module of xray_trainer/): each file is shipped as it is. */
const SCRIPT_FILES = import.meta.glob<string>(['./pytorch/train.py', './pytorch/xray_trainer/*.py'], {
  query: '?raw',
  import: 'default',
  eager: true,
});
const SCRIPT_DIR = './pytorch/';

/** The script's files as the bundle holds them: train.py first, then xray_trainer/'s modules by name. */
export function scriptFiles(): BundleFile[] {
  const files = Object.entries(SCRIPT_FILES).map(([path, text]) => ({ name: path.slice(SCRIPT_DIR.length), text }));
  const rank = (name: string) => (name === 'train.py' ? 0 : 1);
  return files.sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface PytorchBundleInput {
  settings: Settings;
  /** The model's output order (as the page sorts class folders). */
  classNames: string[];
  rows: ManifestRow[];
}

/** The columns of manifest.csv, as train.py reads them. */
export const MANIFEST_HEADER = ['path', 'split', 'class', 'group'] as const;

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line break or edge spaces; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** manifest.csv: the header, then one line an image (an empty group when the page knew none). */
export function manifestCsv(rows: readonly ManifestRow[]): string {
  const lines = [MANIFEST_HEADER.join(',')];
  for (const row of rows) lines.push([row.path, row.split, row.className, row.group ?? ''].map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

/**
 * The bundle's files: README.md, train.py and xray_trainer/*.py, manifest.csv and settings.json. Throws on rows the
 * script would refuse.
 */
export function pytorchBundleFiles(input: PytorchBundleInput): BundleFile[] {
  const { classNames, rows } = input;
  checkInput(input);
  // The members the page trains with these settings and classes (fewer, or one model, where they do not allow more).
  const asked = snapshotsOf(input.settings);
  const seedModels = seedPlan(input.settings.seedModels ?? 1, classNames.length).members;
  const settings = {
    ...(asked > 1
      ? { ...input.settings, snapshots: snapshotPlan(asked, input.settings.epochs, classNames.length).members }
      : input.settings),
    seedModels,
  };
  return [
    { name: 'README.md', text: bundleReadme(settings, classNames, rows) },
    ...scriptFiles(),
    { name: 'manifest.csv', text: manifestCsv(rows) },
    // The page's Settings as they are, plus the class order (the model's outputs), which train.py needs.
    { name: 'settings.json', text: `${JSON.stringify({ ...settings, classNames }, null, 2)}\n` },
  ];
}

function checkInput({ classNames, rows }: PytorchBundleInput): void {
  if (classNames.length < 2) throw new Error(`A classifier needs at least 2 classes (got ${classNames.length}).`);
  if (new Set(classNames).size !== classNames.length)
    throw new Error(`Class names must differ: ${classNames.join(', ')}.`);
  if (rows.length === 0) throw new Error('The manifest would list no images.');
  const known = new Set(classNames);
  for (const row of rows) {
    if (!row.path) throw new Error('An image of the manifest has no path.');
    if (!known.has(row.className))
      throw new Error(`${row.path}: class "${row.className}" is not one of ${classNames.join(', ')}.`);
    if (!SPLIT_NAMES.includes(row.split))
      throw new Error(`${row.path}: split "${String(row.split)}" is none of ${SPLIT_NAMES.join(', ')}.`);
  }
}
