import { extensionOf } from './paths';

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
