import {
  BlobReader,
  configure,
  ERR_INVALID_UNCOMPRESSED_SIZE,
  Writer,
  ZipReader,
  type Entry,
  type FileEntry,
} from '@zip.js/zip.js';
import type { ZipEntryRef } from './decodeProtocol';
import { DatasetError, messageOf } from './errors';
import { timeSlicer } from '../core/timeSlicer';
import { mimeTypeOf } from './imageTypes';
import type { SkipReason } from './types';
import { readEntryRef } from './zipEntryBytes';
import { EntryTooLargeError, entryReadError } from './zipErrors';
import { entryReadProblem, zipListingError } from './zipJsErrors';
import { formatBytes } from '../core/formatUnits';

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

/** True when the bytes start like a zip archive (local file header, or the end record of an empty zip). */
export async function looksLikeZip(blob: Blob): Promise<boolean> {
  const head = new Uint8Array(await blob.slice(0, 4).arrayBuffer());
  return head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

/**
 * Lists a zip archive. Only the central directory is read (zip.js reads a Blob by slices), so a
 * multi-gigabyte archive costs a few megabytes here; Zip64 archives are read too. zip.js' entries are
 * taken one at a time and not kept: what is kept of an entry is its name, sizes and where its bytes lie
 * (a few hundred bytes), where the library's entry objects, kept, cost about 8 KiB each (143 MiB of heap for
 * the 17,582 entries of the download-shaped archive).
 * @throws DatasetError when the file is not a readable zip.
 */
export async function listZip(
  file: Blob,
  limits: ArchiveLimits = {},
  onProgress?: (done: number, total: number) => void,
): Promise<ArchiveEntry[]> {
  const caps = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  // 'tolerant': a `..` or absolute name must not abort the listing; classifyPath skips it instead.
  // checkCrc32: a damaged image is reported, never decoded into silently wrong pixels.
  const reader = new ZipReader(new BlobReader(file), { filenameValidation: 'tolerant', checkCrc32: true });
  const listed: ArchiveEntry[] = [];
  let total = 0;
  let encrypted = false;
  try {
    // zip.js parses the central directory entry by entry: between entries, the page gets its thread back now and then.
    const slice = timeSlicer();
    const entries = reader.getEntriesGenerator({ onprogress: (done, count) => onProgress?.(done, count) });
    for await (const entry of entries) {
      if (!entry.directory) {
        total += entry.uncompressedSize;
        encrypted ||= entry.encrypted;
      }
      listed.push(listedEntry(file, entry, caps));
      await slice();
    }
  } catch (error) {
    throw await zipListingError(file, error);
  } finally {
    await reader.close();
  }
  if (encrypted) {
    throw new DatasetError(
      'This zip archive is password-protected, and encrypted archives cannot be read here. Unzip it with its password and zip the folders again without one.',
    );
  }
  if (total > caps.maxTotalBytes) {
    throw new DatasetError(
      `This zip archive would unpack to ${formatBytes(total)}, more than the ${formatBytes(caps.maxTotalBytes)} that can be read here; it may be a zip bomb. Zip a smaller part of the dataset.`,
    );
  }
  return listed;
}

/** A stored or deflated entry, read by slicing the archive: it holds its location, not zip.js' entry. */
class SlicedZipEntry implements ArchiveEntry {
  readonly directory = false;
  skip?: ArchiveEntry['skip'];

  constructor(
    readonly path: string,
    readonly size: number,
    readonly zip: ZipEntryRef,
  ) {}

  async read(): Promise<Blob> {
    // Where the local header is not where the table of contents says, the archive is damaged (as zip.js would say).
    const bytes = await readEntryRef(this.zip);
    return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mimeTypeOf(this.path) });
  }
}

/** One listed entry: a folder, an entry read by slicing, or (deflate64 and other rare methods) one zip.js reads. */
function listedEntry(file: Blob, entry: Entry, caps: Required<ArchiveLimits>): ArchiveEntry {
  const path = safeName(entry.filename);
  if (entry.directory) {
    return { path, directory: true, size: 0, read: () => Promise.reject(new Error(`${path} is a folder.`)) };
  }
  const ref = directRef(file, entry, caps.maxEntryBytes);
  const listed: ArchiveEntry = ref
    ? new SlicedZipEntry(path, entry.uncompressedSize, ref)
    : { path, directory: false, size: entry.uncompressedSize, read: () => readZipEntry(entry, caps.maxEntryBytes) };
  const tooLarge = oversizeReason(entry.uncompressedSize, entry.compressedSize, caps);
  if (tooLarge) listed.skip = { reason: 'too-large', detail: tooLarge };
  return listed;
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

/** An entry's bytes as a typed Blob, through zip.js (methods other than stored and deflated). */
async function readZipEntry(entry: FileEntry, maxEntryBytes: number): Promise<Blob> {
  const limit = Math.min(entry.uncompressedSize, maxEntryBytes);
  const writer = new LimitedBlobWriter(limit, mimeTypeOf(entry.filename), (written) =>
    written > maxEntryBytes
      ? `it inflates to over ${formatBytes(maxEntryBytes)}, the limit for one image; it may be a zip bomb`
      : `it inflates to more than the ${formatBytes(entry.uncompressedSize)} its header declares; it may be a zip bomb`,
  );
  try {
    return await entry.getData(writer);
  } catch (error) {
    const tooLarge =
      error instanceof EntryTooLargeError
        ? error
        : error instanceof Error && error.cause instanceof EntryTooLargeError
          ? error.cause
          : null;
    if (tooLarge) throw tooLarge;
    // zip.js stops inflating by itself once an entry outgrows its declared size, the stream cut off
    // (`outputSize` 0 then); an entry that came out short (damage) says how much it gave.
    const outputSize = (error as { outputSize?: unknown } | null)?.outputSize;
    const short = typeof outputSize === 'number' && outputSize > 0 && outputSize < entry.uncompressedSize;
    if (messageOf(error) === ERR_INVALID_UNCOMPRESSED_SIZE && !short) {
      throw new EntryTooLargeError(
        `it inflates to more than the ${formatBytes(entry.uncompressedSize)} its header declares; it may be a zip bomb`,
      );
    }
    throw entryReadError(entryReadProblem(error), { cause: error });
  }
}
