import type { DicomTags } from './dicom/tags';

/**
 * The messages between the page's decode pool (decodePool.ts) and its decode workers (decode.worker.ts).
 * Compressed bytes go in (a Blob, or where a zip entry lies in the dropped archive), grey bytes come back,
 * transferred rather than copied.
 */

/**
 * Where a zip entry's bytes lie in the archive, so a decode worker slices (and inflates) them itself
 * and no image byte crosses the page's thread.
 */
export interface ZipEntryRef {
  archive: Blob;
  /** Offset of the entry's local header in the archive. */
  offset: number;
  /** 0 stored, 8 deflated. */
  method: 0 | 8;
  compressedSize: number;
  /** Uncompressed size, as the table of contents declares it. */
  size: number;
  crc32: number;
  path: string;
  /** Zip-bomb cap on one entry. */
  maxEntryBytes: number;
}

/** A file's bytes (`name` is its path, for telling a DICOM file by its name), or a zip entry the worker reads itself. */
export type DecoderSource =
  { blob: Blob; name?: string; zip?: undefined } | { zip: ZipEntryRef; blob?: undefined; name?: undefined };

/**
 * decode: `blob`, or the zip entry `zip`, to `size` x `size` grey bytes.
 * patient: the hashed PatientID of a DICOM file, read from its first bytes only (grouping by patient is planned
 * before images are decoded).
 */
export type ToDecoder = ({ type: 'decode'; id: number; size: number } | { type: 'patient'; id: number }) &
  DecoderSource;

/** What a DICOM file says of itself: the tags the page shows, and its patient (hashed, never in clear). */
export interface DicomFacts {
  tags: DicomTags;
  patient: string | null;
}

/** Why a file failed, where the skipped list should say more than `decode-failed`. */
export type DecodeSkipReason = 'too-large' | 'dicom-unusable' | 'not-an-image';

export type FromDecoder =
  /**
   * sourceWidth/sourceHeight: the stored image's size from its header (0 when unknown), for megapixel figures and
   * the health report; fileCrc32 (of the file's bytes) and pixelHash (of the grey pixels) find duplicates (imageHash.ts).
   */
  | {
      type: 'decoded';
      id: number;
      pixels: Uint8Array;
      sourceWidth: number;
      sourceHeight: number;
      bytesRead: number;
      readMs: number;
      fileCrc32: number;
      pixelHash: string;
      /** The grey pixels' fine detail (core/imageDetailSpec.ts' meanImageDetail); NaN when too small to read. */
      detail?: number;
      /** Set for a DICOM file. */
      dicom?: DicomFacts;
    }
  /** skipReason: e.g. the entry inflated past its cap (a zip bomb), skipped as 'too-large' rather than 'decode-failed'. */
  | { type: 'decodeFailed'; id: number; message: string; skipReason?: DecodeSkipReason }
  /** The hashed PatientID; null when the file is not DICOM, names none, or cannot be read. */
  | { type: 'patient'; id: number; patient: string | null };

/** The buffers a decode message should transfer rather than copy. */
export function decoderTransferables(message: ToDecoder | FromDecoder): Transferable[] {
  return message.type === 'decoded' && message.pixels.buffer instanceof ArrayBuffer && message.pixels.byteLength > 0
    ? [message.pixels.buffer]
    : [];
}
