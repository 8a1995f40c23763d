import {
  BlobReader,
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
  Writer,
  ZipReader,
  type FileEntry,
} from '@zip.js/zip.js';
import CRC32 from 'crc-32';
import { DatasetError, EXPECTED_LAYOUT, messageOf } from './errors';
import { extensionOf } from './paths';
import type { SkipReason } from './types';
import type { ZipEntryRef } from '../worker/protocol';


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
  /** Set when the listing already knows the file must not be read (e.g. a zip bomb): indexEntries skips it. */
  skip?: { reason: SkipReason; detail: string };
  /** Set for a zip entry, so a decode worker can read it itself. */
  zip?: ZipEntryRef;
}

/** Bounds on what a zip may make the page inflate (zip bombs). */
export interface ArchiveLimits {
  /** Largest uncompressed size of one file, in bytes. Default 256 MiB. */
  maxEntryBytes?: number;
  /** Largest uncompressed size of the whole archive, in bytes. Default 64 GiB. */
  maxTotalBytes?: number;
  /** Largest uncompressed / compressed ratio of one file over 1 MiB. Default 1000. */
  maxRatio?: number;
}

export const DEFAULT_ARCHIVE_LIMITS: Readonly<Required<ArchiveLimits>> = {
  maxEntryBytes: 256 * 1024 ** 2,
  maxTotalBytes: 64 * 1024 ** 3,
  maxRatio: 1000,
};

/** Files smaller than this are never refused for their compression ratio: they cannot hurt. */
const RATIO_FLOOR_BYTES = 1024 ** 2;

/** Thrown by `read` when a file inflates to more than it declared or than the cap: loadDataset skips it as 'too-large'. */
export class EntryTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EntryTooLargeError';
  }
}

/** Sizes for messages: 300 MiB, 64 GiB, 12 KiB. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${Number(value.toFixed(1))} ${units[unit]}`;
}

/** Why a file of these sizes must not be inflated, or null when it may be. */
export function oversizeReason(uncompressed: number, compressed: number, limits: ArchiveLimits = {}): string | null {
  const { maxEntryBytes, maxRatio } = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  if (uncompressed > maxEntryBytes) {
    return `${formatBytes(uncompressed)} uncompressed, over the ${formatBytes(maxEntryBytes)} limit for one image`;
  }
  if (uncompressed >= RATIO_FLOOR_BYTES && compressed > 0 && uncompressed / compressed > maxRatio) {
    return `compressed ${Math.round(uncompressed / compressed)}:1 (${formatBytes(compressed)} to ${formatBytes(uncompressed)}), over the ${maxRatio}:1 limit: likely a zip bomb`;
  }
  return null;
}

/**
 * Collects an entry's inflated bytes into a Blob, and fails as soon as they pass `limit`, so a file
 * that lies about its size costs at most `limit` bytes of memory.
 */
class LimitedBlobWriter extends Writer<Blob> {
  private readonly chunks: Uint8Array<ArrayBuffer>[] = [];
  private written = 0;

  constructor(
    private readonly limit: number,
    private readonly type: string,
    private readonly describe: (written: number) => string,
  ) {
    super();
  }

  override writeUint8Array(array: Uint8Array): Promise<void> {
    this.written += array.length;
    if (this.written > this.limit) {
      this.chunks.length = 0;
      return Promise.reject(new EntryTooLargeError(this.describe(this.written)));
    }
    this.chunks.push(array.slice());
    return Promise.resolve();
  }

  override getData(): Promise<Blob> {
    return Promise.resolve(new Blob(this.chunks, { type: this.type }));
  }
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
export async function listZip(file: Blob, limits: ArchiveLimits = {}, onProgress?: (done: number, total: number) => void): Promise<ArchiveEntry[]> {
  const caps = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  // 'tolerant': a `..` or absolute name must not abort the listing; classifyPath skips it instead.
  // checkCrc32: a damaged image is reported, never decoded into silently wrong pixels.
  const reader = new ZipReader(new BlobReader(file), { filenameValidation: 'tolerant', checkCrc32: true });
  let entries;
  try {
    entries = await reader.getEntries(onProgress ? { onprogress: async (done, total) => onProgress(done, total) } : {});
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
  let total = 0;
  for (const entry of entries) if (!entry.directory) total += entry.uncompressedSize;
  if (total > caps.maxTotalBytes) {
    throw new DatasetError(
      `This zip archive would unpack to ${formatBytes(total)}, more than the ${formatBytes(caps.maxTotalBytes)} that can be read here; it may be a zip bomb. Zip a smaller part of the dataset.`,
    );
  }
  return entries.map((entry): ArchiveEntry => {
    const path = safeName(entry.filename);
    if (entry.directory) {
      return { path, directory: true, size: 0, read: () => Promise.reject(new Error(`${path} is a folder.`)) };
    }
    const listed: ArchiveEntry = {
      path,
      directory: false,
      size: entry.uncompressedSize,
      read: () => readZipEntry(file, entry, caps.maxEntryBytes),
      ...(directRef(file, entry, caps.maxEntryBytes) ? { zip: directRef(file, entry, caps.maxEntryBytes)! } : {}),
    };
    const tooLarge = oversizeReason(entry.uncompressedSize, entry.compressedSize, caps);
    if (tooLarge) listed.skip = { reason: 'too-large', detail: tooLarge };
    return listed;
  });
}

/** zip.js decodes names (UTF-8, else CP437); a name it could not decode at all must still be a string. */
function safeName(name: unknown): string {
  return typeof name === 'string' ? name : '';
}

/**
 * Where a stored or deflated, unencrypted entry lies, for readEntryBytes; null for anything else
 * (deflate64, encryption), which zip.js reads.
 */
function directRef(file: Blob, entry: FileEntry, maxEntryBytes: number): ZipEntryRef | null {
  const method = entry.compressionMethod;
  if ((method !== 0 && method !== 8) || entry.encrypted || entry.crc32 === undefined) return null;
  return {
    archive: file,
    offset: entry.offset,
    method,
    compressedSize: entry.compressedSize,
    size: entry.uncompressedSize,
    crc32: entry.crc32,
    path: safeName(entry.filename),
    maxEntryBytes,
  };
}

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;

function damaged(): Error {
  return new Error(`Could not read this file from the zip: ${entryReadProblem(new Error(ERR_INVALID_CRC32))}`);
}

/**
 * An entry's bytes, sliced straight out of the archive (and inflated by the browser's own
 * DecompressionStream when deflated), the CRC-32 checked. Three to four times faster than zip.js'
 * stream pipeline, which matters at hundreds of images a second, and possible in a decode worker
 * without listing the archive again. Null when the local header is not where the table of contents
 * says: zip.js then reads the entry, and reports the damage.
 * @throws EntryTooLargeError when the entry is, or inflates to, more than its declared size or the cap.
 */
export async function readEntryBytes(ref: ZipEntryRef): Promise<Uint8Array | null> {
  const { archive, offset, compressedSize, size, maxEntryBytes } = ref;
  const head = await archive.slice(offset, offset + LOCAL_HEADER_BYTES).arrayBuffer();
  if (head.byteLength < LOCAL_HEADER_BYTES) return null;
  const view = new DataView(head);
  if (view.getUint32(0, true) !== LOCAL_HEADER_SIGNATURE) return null;
  const start = offset + LOCAL_HEADER_BYTES + view.getUint16(26, true) + view.getUint16(28, true);
  if (start + compressedSize > archive.size) return null;
  if (size > maxEntryBytes) {
    throw new EntryTooLargeError(`it is ${formatBytes(size)}, over the ${formatBytes(maxEntryBytes)} limit for one image`);
  }
  const raw = archive.slice(start, start + compressedSize);
  const bytes = ref.method === 0 ? new Uint8Array(await raw.arrayBuffer()) : await inflateRaw(raw, size);
  if (bytes.length !== size || CRC32.buf(bytes) >>> 0 !== ref.crc32 >>> 0) throw damaged();
  return bytes;
}

/** Inflates into a buffer of the declared size, and stops as soon as the data would overflow it (a zip bomb). */
async function inflateRaw(raw: Blob, declared: number): Promise<Uint8Array> {
  const out = new Uint8Array(declared);
  let written = 0;
  const reader = raw.stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return out.subarray(0, written);
      if (written + value.length > declared) {
        throw new EntryTooLargeError(`it inflates to more than the ${formatBytes(declared)} its header declares; it may be a zip bomb`);
      }
      out.set(value, written);
      written += value.length;
    }
  } catch (error) {
    if (error instanceof EntryTooLargeError) throw error;
    throw damaged(); // A corrupt deflate stream.
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** A decode worker's way in: the entry's bytes, or a message that says the archive is damaged. */
export async function readEntryRef(ref: ZipEntryRef): Promise<Uint8Array> {
  const bytes = await readEntryBytes(ref);
  if (!bytes) throw new Error(`Could not read this file from the zip: ${entryReadProblem(new Error(ERR_LOCAL_FILE_HEADER_NOT_FOUND))}`);
  return bytes;
}

async function readZipEntry(file: Blob, entry: FileEntry, maxEntryBytes: number): Promise<Blob> {
  const ref = directRef(file, entry, maxEntryBytes);
  const direct = ref ? await readEntryBytes(ref) : null;
  if (direct) return new Blob([direct as Uint8Array<ArrayBuffer>], { type: mimeTypeOf(entry.filename) });
  const limit = Math.min(entry.uncompressedSize, maxEntryBytes);
  const writer = new LimitedBlobWriter(limit, mimeTypeOf(entry.filename), (written) =>
    written > maxEntryBytes
      ? `it inflates to over ${formatBytes(maxEntryBytes)}, the limit for one image; it may be a zip bomb`
      : `it inflates to more than the ${formatBytes(entry.uncompressedSize)} its header declares; it may be a zip bomb`,
  );
  try {
    return await entry.getData(writer);
  } catch (error) {
    const tooLarge = error instanceof EntryTooLargeError ? error : error instanceof Error && error.cause instanceof EntryTooLargeError ? error.cause : null;
    if (tooLarge) throw tooLarge;
    // zip.js stops inflating by itself once an entry outgrows its declared size, the stream cut off
    // (`outputSize` 0 then); an entry that came out short (damage) says how much it gave.
    const outputSize = (error as { outputSize?: unknown } | null)?.outputSize;
    const short = typeof outputSize === 'number' && outputSize > 0 && outputSize < entry.uncompressedSize;
    if (messageOf(error) === ERR_INVALID_UNCOMPRESSED_SIZE && !short) {
      throw new EntryTooLargeError(`it inflates to more than the ${formatBytes(entry.uncompressedSize)} its header declares; it may be a zip bomb`);
    }
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

/**
 * The zip caps applied to loose files and dropped folders: a file over the per-image cap is skipped
 * as 'too-large' (it would be read whole into memory), and a selection over the total cap is refused.
 */
export function capLooseFiles(entries: ArchiveEntry[], limits: ArchiveLimits = {}): ArchiveEntry[] {
  const { maxEntryBytes, maxTotalBytes } = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  let total = 0;
  for (const entry of entries) total += entry.size;
  if (total > maxTotalBytes) {
    throw new DatasetError(
      `These files add up to ${formatBytes(total)}, more than the ${formatBytes(maxTotalBytes)} that can be read here. Choose a smaller part of the dataset.`,
    );
  }
  return entries.map((entry) =>
    entry.size > maxEntryBytes && !entry.skip
      ? { ...entry, skip: { reason: 'too-large', detail: `${formatBytes(entry.size)}, over the ${formatBytes(maxEntryBytes)} limit for one image` } }
      : entry,
  );
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
