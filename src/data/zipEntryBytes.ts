import CRC32 from 'crc-32';
import type { ZipEntryRef } from './decodeProtocol';
import { ENTRY_PROBLEMS, EntryTooLargeError, entryReadError } from './zipErrors';
import { formatBytes } from '../core/formatUnits';

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;

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
    throw new EntryTooLargeError(
      `it is ${formatBytes(size)}, over the ${formatBytes(maxEntryBytes)} limit for one image`,
    );
  }
  const raw = archive.slice(start, start + compressedSize);
  const bytes = ref.method === 0 ? new Uint8Array(await raw.arrayBuffer()) : await inflateRaw(raw, size);
  if (bytes.length !== size || CRC32.buf(bytes) >>> 0 !== ref.crc32 >>> 0)
    throw entryReadError(ENTRY_PROBLEMS.damagedData);
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
        throw new EntryTooLargeError(
          `it inflates to more than the ${formatBytes(declared)} its header declares; it may be a zip bomb`,
        );
      }
      out.set(value, written);
      written += value.length;
    }
  } catch (error) {
    if (error instanceof EntryTooLargeError) throw error;
    throw entryReadError(ENTRY_PROBLEMS.damagedData); // A corrupt deflate stream.
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * The first `maxBytes` of an entry (inflated when deflated), unchecked: enough to read a DICOM file's patient
 * before the whole file is decoded. Empty when the local header is not where the table of contents says.
 */
export async function readEntryHead(ref: ZipEntryRef, maxBytes: number): Promise<Uint8Array> {
  const { archive, offset, compressedSize, size } = ref;
  const head = await archive.slice(offset, offset + LOCAL_HEADER_BYTES).arrayBuffer();
  if (head.byteLength < LOCAL_HEADER_BYTES) return new Uint8Array(0);
  const view = new DataView(head);
  if (view.getUint32(0, true) !== LOCAL_HEADER_SIGNATURE) return new Uint8Array(0);
  const start = offset + LOCAL_HEADER_BYTES + view.getUint16(26, true) + view.getUint16(28, true);
  const raw = archive.slice(start, start + compressedSize);
  if (ref.method === 0) return new Uint8Array(await raw.slice(0, Math.min(size, maxBytes)).arrayBuffer());
  const out = new Uint8Array(Math.min(size, maxBytes));
  let written = 0;
  const reader = raw.stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  try {
    while (written < out.length) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, out.length - written);
      out.set(value.subarray(0, take), written);
      written += take;
    }
  } catch {
    // Damage past the head shows when the entry is decoded.
  } finally {
    reader.cancel().catch(() => {});
  }
  return out.subarray(0, written);
}

/** A decode worker's way in: the entry's bytes, or a message that says the archive is damaged. */
export async function readEntryRef(ref: ZipEntryRef): Promise<Uint8Array> {
  const bytes = await readEntryBytes(ref);
  if (!bytes) throw entryReadError(ENTRY_PROBLEMS.damagedArchive);
  return bytes;
}
