import {
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
} from '@zip.js/zip.js';
import { DatasetError, EXPECTED_LAYOUT, messageOf } from './errors';
import { ENTRY_PROBLEMS } from './zipErrors';

/* zip.js' error codes, in sentences that say what to do. Page side only (archive.ts): it imports zip.js. */

/** Why zip.js could not read an entry: one of ENTRY_PROBLEMS, or zip.js' own message. */
export function entryReadProblem(error: unknown): string {
  const message = messageOf(error);
  switch (message) {
    case ERR_INVALID_CRC32:
    case ERR_INVALID_UNCOMPRESSED_SIZE:
      return ENTRY_PROBLEMS.damagedData;
    case ERR_LOCAL_FILE_HEADER_NOT_FOUND:
    case ERR_ENTRY_DATA_OUT_OF_BOUNDS:
      return ENTRY_PROBLEMS.damagedArchive;
    case ERR_UNSUPPORTED_COMPRESSION:
      return ENTRY_PROBLEMS.unsupportedCompression;
    case ERR_ENCRYPTED:
    case ERR_UNSUPPORTED_ENCRYPTION:
      return ENTRY_PROBLEMS.encrypted;
    default:
      return `${message}.`;
  }
}

/** Turns a zip.js listing failure into a sentence that says what to do. */
export async function zipListingError(file: Blob, error: unknown): Promise<DatasetError> {
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
    return new DatasetError(
      `This is a ${kind} archive, and only .zip archives can be read here. Unpack it and zip the folders. ${EXPECTED_LAYOUT}`,
      options,
    );
  }
  if (message === ERR_EOCDR_NOT_FOUND || message === ERR_BAD_FORMAT || file.size < 22) {
    return new DatasetError(`This file is not a zip archive. ${EXPECTED_LAYOUT}`, options);
  }
  return new DatasetError(
    `This zip archive could not be read (${message}). Create the zip again, or drop the unpacked folder instead.`,
    options,
  );
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
