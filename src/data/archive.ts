import {
  BlobReader,
  BlobWriter,
  configure,
  ERR_BAD_FORMAT,
  ERR_CENTRAL_DIRECTORY_NOT_FOUND,
  ERR_ENCRYPTED,
  ERR_ENCRYPTED_CENTRAL_DIRECTORY,
  ERR_ENTRY_DATA_OUT_OF_BOUNDS,
  ERR_EOCDR_LOCATOR_ZIP64_NOT_FOUND,
  ERR_EOCDR_NOT_FOUND,
  ERR_INVALID_CRC32,
  ERR_INVALID_UNCOMPRESSED_SIZE,
  ERR_LOCAL_FILE_HEADER_NOT_FOUND,
  ERR_SPLIT_ZIP_FILE,
  ERR_UNSUPPORTED_COMPRESSION,
  ERR_UNSUPPORTED_ENCRYPTION,
  ZipReader,
  type FileEntry,
} from '@zip.js/zip.js';
import { DatasetError, EXPECTED_LAYOUT, messageOf } from './errors';
import { extensionOf } from './paths';

/**
 * One file of a dataset source, read lazily: listing costs no image bytes, and `read` fetches one
 * file's bytes when it is about to be decoded. Zip archives, dropped files and dropped folders all
 * come out as this, so the rest of the data layer does not care where images come from.
 */
export interface ArchiveEntry {
  path: string;
  directory: boolean;
  /** Uncompressed size in bytes. */
  size: number;
  read(): Promise<Blob>;
}

// No web workers: zip.js would otherwise start workers from a Blob URL it builds. Inflating runs on
// the native DecompressionStream('deflate-raw') of the page; zip.js only falls back to its WebAssembly
// inflater (deflate64, AES, or a browser without deflate-raw), and that module is inlined in the bundle
// as a data: URI, so in no case is anything fetched from the network.
configure({ useWebWorkers: false, useCompressionStream: true });

const MIME_TYPES: Readonly<Record<string, string>> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  bmp: 'image/bmp',
  webp: 'image/webp',
  gif: 'image/gif',
};

/** The MIME type a file name implies ('' when unknown), so a decoder gets a typed Blob. */
export function mimeTypeOf(path: string): string {
  return MIME_TYPES[extensionOf(path)] ?? '';
}

/** True when the bytes start like a zip archive (local file header, or the end record of an empty zip). */
export async function looksLikeZip(blob: Blob): Promise<boolean> {
  const head = new Uint8Array(await blob.slice(0, 4).arrayBuffer());
  return head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

/**
 * Lists a zip archive. Only the central directory is read (zip.js reads a Blob by slices), so a
 * multi-gigabyte archive costs a few megabytes here; Zip64 archives are read too.
 * @throws DatasetError when the file is not a readable zip.
 */
export async function listZip(file: Blob): Promise<ArchiveEntry[]> {
  // 'tolerant': a `..` or absolute name must not abort the listing; classifyPath skips it instead.
  // checkCrc32: a damaged image is reported, never decoded into silently wrong pixels.
  const reader = new ZipReader(new BlobReader(file), { filenameValidation: 'tolerant', checkCrc32: true });
  let entries;
  try {
    entries = await reader.getEntries();
  } catch (error) {
    throw await zipListingError(file, error);
  } finally {
    await reader.close();
  }
  if (entries.some((entry) => !entry.directory && entry.encrypted)) {
    throw new DatasetError(
      'This zip archive is password-protected, and encrypted archives cannot be read here. Unzip it with its password and zip the folders again without one.',
    );
  }
  return entries.map((entry): ArchiveEntry => {
    if (entry.directory) {
      return { path: entry.filename, directory: true, size: 0, read: () => Promise.reject(new Error(`${entry.filename} is a folder.`)) };
    }
    return { path: entry.filename, directory: false, size: entry.uncompressedSize, read: () => readZipEntry(entry) };
  });
}

async function readZipEntry(entry: FileEntry): Promise<Blob> {
  try {
    return await entry.getData(new BlobWriter(mimeTypeOf(entry.filename)));
  } catch (error) {
    throw new Error(`Could not read this file from the zip: ${entryReadProblem(error)}`, { cause: error });
  }
}

function entryReadProblem(error: unknown): string {
  const message = messageOf(error);
  switch (message) {
    case ERR_INVALID_CRC32:
    case ERR_INVALID_UNCOMPRESSED_SIZE:
      return 'its data is damaged (checksum mismatch). Download or create the zip again.';
    case ERR_LOCAL_FILE_HEADER_NOT_FOUND:
    case ERR_ENTRY_DATA_OUT_OF_BOUNDS:
      return 'the archive is damaged or incomplete. Download or create the zip again.';
    case ERR_UNSUPPORTED_COMPRESSION:
      return 'it is compressed with a method the browser cannot read. Create the zip again with standard (deflate) compression.';
    case ERR_ENCRYPTED:
    case ERR_UNSUPPORTED_ENCRYPTION:
      return 'it is encrypted. Zip the folders again without a password.';
    default:
      return `${message}.`;
  }
}

/** Turns a zip.js listing failure into a sentence that says what to do. */
async function zipListingError(file: Blob, error: unknown): Promise<DatasetError> {
  const message = messageOf(error);
  const options = { cause: error };
  if (message === ERR_SPLIT_ZIP_FILE) {
    return new DatasetError(
      'This zip archive is split into several parts (.z01, .z02…). Join the parts into one .zip, or unzip them and zip the folders again.',
      options,
    );
  }
  if (message === ERR_ENCRYPTED_CENTRAL_DIRECTORY) {
    return new DatasetError(
      'This zip archive is encrypted, and encrypted archives cannot be read here. Unzip it with its password and zip the folders again without one.',
      options,
    );
  }
  const kind = await sniffKind(file);
  if (kind === 'zip' || message === ERR_CENTRAL_DIRECTORY_NOT_FOUND || message === ERR_EOCDR_LOCATOR_ZIP64_NOT_FOUND) {
    return new DatasetError(
      'This zip archive is incomplete or damaged (its table of contents at the end is missing), often because a download was interrupted. Download or create the zip again.',
      options,
    );
  }
  if (kind === 'image') {
    return new DatasetError(
      `This is a single image, not a zip archive: a classifier needs many images sorted into class folders. ${EXPECTED_LAYOUT}`,
      options,
    );
  }
  if (kind) {
    return new DatasetError(`This is a ${kind} archive, and only .zip archives can be read here. Unpack it and zip the folders. ${EXPECTED_LAYOUT}`, options);
  }
  if (message === ERR_EOCDR_NOT_FOUND || message === ERR_BAD_FORMAT || file.size < 22) {
    return new DatasetError(`This file is not a zip archive. ${EXPECTED_LAYOUT}`, options);
  }
  return new DatasetError(`This zip archive could not be read (${message}). Create the zip again, or drop the unpacked folder instead.`, options);
}

/** What the first bytes say a file is, for a helpful message. */
async function sniffKind(file: Blob): Promise<'zip' | 'image' | 'RAR' | '7z' | 'gzip (.tar.gz)' | null> {
  const b = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  if (b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4) return 'zip';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image';
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image';
  if (b[0] === 0x42 && b[1] === 0x4d) return 'image';
  if (b[0] === 0x52 && b[1] === 0x61 && b[2] === 0x72 && b[3] === 0x21) return 'RAR';
  if (b[0] === 0x37 && b[1] === 0x7a && b[2] === 0xbc && b[3] === 0xaf) return '7z';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip (.tar.gz)';
  return null;
}

/** Loose files dropped or picked (with `webkitdirectory`, `webkitRelativePath` holds the folder path). */
export function listFiles(files: File[]): ArchiveEntry[] {
  return files.map((file) => ({
    path: file.webkitRelativePath || file.name,
    directory: false,
    size: file.size,
    read: () => Promise.resolve(file),
  }));
}

/**
 * The files of a drag-and-drop, folders walked recursively. `dataTransfer.files` flattens a dropped
 * folder into one useless entry, so folders are read through `webkitGetAsEntry`.
 * Call it synchronously inside the drop handler: the items are emptied once the handler returns
 * (the walk itself may run on afterwards).
 */
export function entriesFromDrop(items: ArrayLike<DataTransferItem>): Promise<ArchiveEntry[]> {
  const roots: FileSystemEntry[] = [];
  for (let i = 0; i < items.length; i++) {
    const entry = items[i].kind === 'file' ? items[i].webkitGetAsEntry() : null;
    if (entry) roots.push(entry);
  }
  return walk(roots);
}

async function walk(roots: FileSystemEntry[]): Promise<ArchiveEntry[]> {
  const out: ArchiveEntry[] = [];
  const pending = [...roots];
  while (pending.length > 0) {
    const entry = pending.pop()!;
    if (entry.isDirectory) {
      pending.push(...(await readAllEntries(entry as FileSystemDirectoryEntry)));
    } else if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ path: entry.fullPath.replace(/^\/+/, ''), directory: false, size: file.size, read: () => Promise.resolve(file) });
    }
  }
  return out;
}

/** `readEntries` returns at most 100 entries a call (Chrome): call it until it returns none. */
async function readAllEntries(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}
