import { describe, expect, it } from 'vitest';
import { jpegDecodeSize } from './jpegScale';

/** The decoded size Chrome's JPEG decoder gives for a desired size: the DCT scale floor(8 x desired / stored) / 8. */
function chromeDecodes(stored: { width: number; height: number }, desired: { width: number; height: number }) {
  const eighths = Math.max(1, Math.min(8, Math.floor((8 * desired.width) / stored.width)));
  return { width: Math.ceil((stored.width * eighths) / 8), height: Math.ceil((stored.height * eighths) / 8) };
}

describe('the JPEG decode size', () => {
  it('is the smallest DCT scale whose shorter side still covers the model size, as the decoder scales', () => {
    // The benchmark archive's 224-px films: 6/8 (168 px), where asking for 150 gave 5/8 (140 px, then enlarged).
    expect(jpegDecodeSize({ width: 224, height: 224 }, 150)).toEqual({ width: 168, height: 168 });
    expect(chromeDecodes({ width: 224, height: 224 }, { width: 150, height: 150 })).toEqual({
      width: 140,
      height: 140,
    });
    // A small pneumonia original (1240 x 828): 2/8, where asking for 150 high gave 1/8 (104 px high).
    expect(jpegDecodeSize({ width: 1240, height: 828 }, 150)).toEqual({ width: 310, height: 207 });
    expect(jpegDecodeSize({ width: 2000, height: 1700 }, 150)).toEqual({ width: 250, height: 213 });
    for (const [width, height] of [
      [224, 224],
      [1240, 828],
      [869, 563],
      [2396, 1990],
      [1201, 1199],
      [151, 400],
    ]) {
      const desired = jpegDecodeSize({ width, height }, 150)!;
      const decoded = chromeDecodes({ width, height }, desired);
      expect(Math.min(decoded.width, decoded.height)).toBeGreaterThanOrEqual(150);
      // And no larger scale than needed: one eighth less would fall short.
      const eighths = Math.round((8 * decoded.width) / width);
      if (eighths > 1) expect(Math.min(width, height) * ((eighths - 1) / 8)).toBeLessThan(150);
    }
  });

  it('decodes whole what is no larger than the model size', () => {
    expect(jpegDecodeSize({ width: 150, height: 300 }, 150)).toBeNull();
    expect(jpegDecodeSize({ width: 100, height: 80 }, 150)).toBeNull();
  });
});
