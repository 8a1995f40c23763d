/**
 * Fingerprints of an image for the `Dataset health` report's duplicate search, made where the bytes are
 * (the decode workers), so the page's thread never touches an image. A file's fingerprint is its size and
 * CRC-32, the pair a zip's table of contents already declares; the decoded grey pixels get a 64-bit one
 * (CRC-32 and FNV-1a side by side), which also finds copies that were saved again in another format.
 */
import CRC32 from 'crc-32';

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

/** "<bytes>:<crc32>": equal for byte-identical files (a CRC collision at equal size is one in four billion). */
export function fileKey(size: number, crc32: number): string {
  return `${size}:${hex8(crc32)}`;
}

/** The CRC-32 of a file's bytes (loose files; a zip entry's comes from the table of contents, checked when read). */
export function crc32Of(bytes: Uint8Array): number {
  return CRC32.buf(bytes) >>> 0;
}

/** 16 hex digits over the decoded pixels: two independent 32-bit hashes, so 5,000 images never collide by chance. */
export function pixelHash(pixels: Uint8Array): string {
  let fnv = 0x811c9dc5;
  for (let i = 0; i < pixels.length; i++) fnv = Math.imul(fnv ^ pixels[i], 0x01000193);
  return hex8(CRC32.buf(pixels)) + hex8(fnv);
}
