import { describe, expect, it } from 'vitest';
import { bmpImage, pngImage } from '../../e2e/imageFormats';
import { readImageHeader } from './imageHeader';
import { EntryTooLargeError } from './zipErrors';

describe('image headers', () => {
  it('reads the type and stored size; the bytes decide a JPEG, not the name', () => {
    expect(readImageHeader(pngImage(9, 7, 'grey8'), 'image/png')).toEqual({
      type: 'image/png',
      source: { width: 9, height: 7 },
    });
    expect(readImageHeader(bmpImage(5, 4), '')).toEqual({ type: '', source: { width: 5, height: 4 } });
  });

  it('refuses an empty file and a header declaring more pixels than any X-ray (a decompression bomb)', () => {
    expect(() => readImageHeader(new Uint8Array(0), 'image/png')).toThrow(/empty \(0 bytes\)/);
    const bomb = pngImage(2, 2, 'grey8');
    new DataView(bomb.buffer).setUint32(16, 65535, false);
    new DataView(bomb.buffer).setUint32(20, 65535, false);
    expect(() => readImageHeader(bomb, 'image/png')).toThrow(EntryTooLargeError);
    expect(() => readImageHeader(bomb, 'image/png')).toThrow(/65,535 × 65,535 px, over the 201-megapixel limit/);
  });
});
