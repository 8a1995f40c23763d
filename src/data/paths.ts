import type { SplitName } from '../core/types';
import type { SkipReason } from './types';

/** What one archive path is: an image of a class in a split, or a file to skip (and why). */
export type PathClass =
  { kind: 'image'; split: SplitName; className: string; fileName: string } | { kind: 'skip'; reason: SkipReason };

/** Extensions read as images (lower case, without the dot). */
export const IMAGE_EXTENSIONS: readonly string[] = ['jpg', 'jpeg', 'png', 'bmp', 'webp', 'gif'];

/** Extensions of DICOM files (lower case, without the dot). */
export const DICOM_EXTENSIONS: readonly string[] = ['dcm', 'dicom', 'dic'];

/**
 * True for a name that may be a DICOM file: `.dcm`, no extension, or a UID-like name whose last part is digits
 * (`1.2.840.113619.2.55.3.604688119`), as hospital exports name them. The decode worker reads the bytes to decide.
 */
export function mayBeDicomName(fileName: string): boolean {
  const extension = extensionOf(fileName);
  return DICOM_EXTENSIONS.includes(extension) || extension === '' || /^\d+$/.test(extension);
}

/**
 * Folder names that mark a split, in lower case. `valid` is what Roboflow and some Kaggle sets use;
 * a folder of that name is far more likely a split than a class.
 */
const SPLIT_FOLDERS: Readonly<Record<string, SplitName>> = {
  train: 'train',
  test: 'test',
  val: 'validation',
  valid: 'validation',
  validation: 'validation',
};

/**
 * Splits a path into its segments the same way whatever produced it: Windows zips use `\`,
 * some tools store `./a/b` or `/a/b`, and a drive letter may lead. Empty and `.` segments go.
 */
export function pathSegments(path: string): string[] {
  const unified = path.replace(/\\/g, '/').replace(/^[A-Za-z]:\//, '/');
  return unified.split('/').filter((segment) => segment !== '' && segment !== '.');
}

/** The extension of a file name, lower case, without the dot ('' when there is none). */
export function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot <= 0 ? '' : fileName.slice(dot + 1).toLowerCase();
}

/** The split a folder name stands for, or null when it is not a split folder. */
export function splitOfFolder(folder: string): SplitName | null {
  return SPLIT_FOLDERS[folder.toLowerCase()] ?? null;
}

/**
 * Classifies one path of an archive or dropped folder, as Keras' flow_from_directory would read a
 * `split/class/image` tree: the class is the folder directly holding the image, the split the nearest
 * `train`/`test`/`val`/`validation` folder above it (none: train).
 */
export function classifyPath(path: string): PathClass {
  // A trailing separator is how zips mark folders; an empty name is nothing to read either.
  // NUL and control characters: no real dataset has them, and they would garble labels and messages.
  if (hasControlCharacter(path)) return skip('unsafe-path');
  if (path === '' || /[/\\]$/.test(path)) return skip('folder');
  const segments = pathSegments(path);
  if (segments.length === 0) return skip('folder');
  // Checked before anything else: such a path must never be taken for a class or split.
  if (segments.includes('..')) return skip('unsafe-path');
  if (segments.some((segment) => segment.toLowerCase() === '__macosx')) return skip('macos-resource');
  // .DS_Store, ._resource forks, files inside .git or .ipynb_checkpoints.
  if (segments.some((segment) => segment.startsWith('.'))) return skip('hidden-file');
  const fileName = segments[segments.length - 1];
  if (!IMAGE_EXTENSIONS.includes(extensionOf(fileName)) && !mayBeDicomName(fileName)) return skip('not-an-image');
  const folders = segments.slice(0, -1);
  if (folders.length === 0) return skip('no-class-folder');
  const className = folders[folders.length - 1];
  if (splitOfFolder(className) !== null) return skip('no-class-folder');
  let split: SplitName = 'train';
  for (let i = folders.length - 2; i >= 0; i--) {
    const found = splitOfFolder(folders[i]);
    if (found) {
      split = found;
      break;
    }
  }
  return { kind: 'image', split, className, fileName };
}

/** True when `text` holds NUL, another C0 control character or DEL. */
export function hasControlCharacter(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function skip(reason: SkipReason): PathClass {
  return { kind: 'skip', reason };
}

/** The sentence shown beside each skip reason in the dataset summary. */
export function describeSkipReason(reason: SkipReason): string {
  switch (reason) {
    case 'folder':
      return 'folder entries';
    case 'macos-resource':
      return 'macOS metadata (__MACOSX)';
    case 'hidden-file':
      return 'hidden files (e.g. .DS_Store)';
    case 'not-an-image':
      return 'not images (only jpg, jpeg, png, bmp, webp, gif and DICOM are read)';
    case 'no-class-folder':
      return 'images not inside a class folder';
    case 'duplicate':
      return 'duplicates of an image already found (same split, class and file name)';
    case 'unsafe-path':
      return 'paths with ".." or control characters (unsafe)';
    case 'decode-failed':
      return 'images that could not be decoded';
    case 'too-large':
      return 'images too large to unpack safely (possible zip bomb)';
    case 'dicom-unusable':
      return 'DICOM files that cannot be used';
    case 'unlabelled':
      return 'images the labels file does not name';
  }
}
