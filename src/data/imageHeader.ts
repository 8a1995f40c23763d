/**
 * What an image file's first bytes say, before the browser's decoder sees it: its format (a name may lie) and its
 * stored size (image-size reads the header only). An image whose header declares more pixels than any X-ray has
 * is refused here: the browser would try to allocate them all (a decompression bomb). Pure: the decode worker
 * runs it, and `npm run fuzz` runs it in Node.
 */
import { imageSize } from 'image-size';
import { EntryTooLargeError } from './zipErrors';

/** Enough to reach a JPEG's frame header past a full EXIF block (at most 64 KiB) and its thumbnail. */
export const HEADER_BYTES = 128 * 1024;

/** Stored pixels an image may declare: 16,384 × 12,288 (a large detector's X-ray is about 4,300 × 4,300). */
export const MAX_SOURCE_PIXELS = 16_384 * 12_288;

export interface SourceSize {
  width: number;
  height: number;
}

/** The stored width and height, from the header alone; null when the header cannot be read. */
export function sourceSizeOf(bytes: Uint8Array): SourceSize | null {
  try {
    const { width, height } = imageSize(bytes.subarray(0, HEADER_BYTES));
    return width > 0 && height > 0 ? { width, height } : null;
  } catch {
    return null; // Not a format image-size knows, or a damaged header: the decoder will say.
  }
}

/** The MIME type the first bytes say (a zip entry's or a file's name may lie, or be missing). */
export function sniffType(bytes: Uint8Array, declared: string): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return declared;
}

/**
 * The type and stored size of an image about to be decoded.
 * @throws Error when the file is empty; EntryTooLargeError when its header declares too many pixels.
 */
export function readImageHeader(bytes: Uint8Array, declaredType: string): { type: string; source: SourceSize | null } {
  if (bytes.length === 0) throw new Error('The file is empty (0 bytes): copy it again, or leave it out.');
  const source = sourceSizeOf(bytes);
  if (source && source.width * source.height > MAX_SOURCE_PIXELS) {
    const whole = new Intl.NumberFormat('en');
    throw new EntryTooLargeError(
      `its header declares ${whole.format(source.width)} × ${whole.format(source.height)} px, over the ${whole.format(Math.round(MAX_SOURCE_PIXELS / 1e6))}-megapixel limit for one image; it may be a decompression bomb. Resize it, or leave it out`,
    );
  }
  return { type: sniffType(bytes, declaredType), source };
}
