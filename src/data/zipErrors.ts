/*
 * What goes wrong reading one zip entry, in sentences that say what to do. No zip.js here: the decode
 * workers read entries themselves (zipEntryBytes.ts) and must not bundle it; zipJsErrors.ts maps
 * zip.js' error codes onto these sentences for the page.
 */

/** Thrown by `read` when a file inflates to more than it declared or than the cap: loadDataset skips it as 'too-large'. */
export class EntryTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EntryTooLargeError';
  }
}

/** Why an entry could not be read, whoever read it: zip.js on the page, or a decode worker. */
export const ENTRY_PROBLEMS = {
  damagedData: 'its data is damaged (checksum mismatch). Download or create the zip again.',
  damagedArchive: 'the archive is damaged or incomplete. Download or create the zip again.',
  unsupportedCompression:
    'it is compressed with a method the browser cannot read. Create the zip again with standard (deflate) compression.',
  encrypted: 'it is encrypted. Zip the folders again without a password.',
} as const;

/** The error for an entry that could not be read; `problem` is one of ENTRY_PROBLEMS, or a sentence of its own. */
export function entryReadError(problem: string, options?: { cause?: unknown }): Error {
  return new Error(`Could not read this file from the zip: ${problem}`, options);
}
