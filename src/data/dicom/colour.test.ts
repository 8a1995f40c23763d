import { describe, expect, it } from 'vitest';
import { luma } from '../grey';
import { decodeDicom } from './decodeDicom';
import { canWriteJpeg, writeDicom, type DicomSpec } from './dicomFiles.testutil';

const WIDTH = 8;
const HEIGHT = 8;
const PIXELS = WIDTH * HEIGHT;
/** Each pixel's red, green and blue: strong hues, so a wrong channel order or transform shows. */
const rgb = Array.from({ length: PIXELS }, (_, p) => [(p * 53) % 256, (p * 97 + 40) % 256, 255 - ((p * 31) % 256)]);
const interleaved = rgb.flat();
const planar = [0, 1, 2].flatMap((c) => rgb.map((pixel) => pixel[c]));
const expected = rgb.map(([r, g, b]) => luma(r, g, b));

const colour = (values: number[], extra: Partial<DicomSpec> = {}): DicomSpec => ({
  width: WIDTH,
  height: HEIGHT,
  values,
  bitsAllocated: 8,
  samplesPerPixel: 3,
  photometric: 'RGB',
  ...extra,
});

async function greyOf(spec: DicomSpec) {
  return [...(await decodeDicom(await writeDicom(spec), WIDTH)).pixels];
}

/** Full-range YCbCr of an RGB pixel (PS3.3 C.7.6.3.1.2), 8-bit. */
function ybr([r, g, b]: number[]): number[] {
  const y = 0.299 * r + 0.587 * g + 0.114 * b;
  const cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128;
  const cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128;
  return [y, cb, cr].map((v) => Math.min(255, Math.max(0, Math.round(v))));
}

function expectClose(actual: number[], wanted: number[], tolerance: number) {
  expect(actual).toHaveLength(wanted.length);
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - wanted[i])));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

describe('colour DICOM to grey', () => {
  it('RGB, interleaved and planar, native and RLE: the app’s luminance, exactly', async () => {
    expect(await greyOf(colour(interleaved))).toEqual(expected);
    expect(await greyOf(colour(planar, { extra: { PlanarConfiguration: 1 } }))).toEqual(expected);
    expect(await greyOf(colour(interleaved, { encoding: 'rle' }))).toEqual(expected);
    expect(await greyOf(colour(planar, { encoding: 'rle', extra: { PlanarConfiguration: 1 } }))).toEqual(expected);
    expect(await greyOf(colour(interleaved, { encoding: 'implicit' }))).toEqual(expected);
  });

  it('RGB with 16 bits a sample keeps the top 8', async () => {
    const wide = interleaved.map((v) => v * 256 + 77);
    expect(await greyOf(colour(wide, { bitsAllocated: 16, bitsStored: 16 }))).toEqual(expected);
  });

  it('YBR_FULL, native and RLE, turned into RGB first', async () => {
    const values = rgb.flatMap(ybr);
    expectClose(await greyOf(colour(values, { photometric: 'YBR_FULL' })), expected, 1);
    expectClose(await greyOf(colour(values, { photometric: 'YBR_FULL', encoding: 'rle' })), expected, 1);
  });

  it('YBR_FULL_422: one Cb and Cr for each two pixels', async () => {
    // Pairs of pixels share their chroma: the mean of the two pixels' Cb and Cr.
    const values: number[] = [];
    const wanted: number[] = [];
    for (let p = 0; p < PIXELS; p += 2) {
      const [y0, cb0, cr0] = ybr(rgb[p]);
      const [y1, cb1, cr1] = ybr(rgb[p + 1]);
      const cb = Math.round((cb0 + cb1) / 2);
      const cr = Math.round((cr0 + cr1) / 2);
      values.push(y0, y1, cb, cr);
      for (const y of [y0, y1]) {
        const clamp = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
        const r = clamp(y + 1.402 * (cr - 128));
        const g = clamp(y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128));
        const b = clamp(y + 1.772 * (cb - 128));
        wanted.push(luma(r, g, b));
      }
    }
    expect(await greyOf(colour(values, { photometric: 'YBR_FULL_422' }))).toEqual(wanted);
  });

  it('PALETTE COLOR: each index looked up in its red, green and blue tables', async () => {
    const indices = Array.from({ length: PIXELS }, (_, p) => p % 16);
    // 16-bit entries for indices 0..15; red and blue tables start at 0, green at index 2 (first value mapped).
    const table = (c: number) => Array.from({ length: 16 }, (_, i) => ((i * 37 + c * 90) % 256) * 257);
    const lut = (c: number, first: number) => ({
      [`${['Red', 'Green', 'Blue'][c]}PaletteColorLookupTableDescriptor`]: [16, first, 16],
      [`${['Red', 'Green', 'Blue'][c]}PaletteColorLookupTableData`]: [Uint16Array.from(table(c)).buffer],
    });
    const spec: DicomSpec = {
      width: WIDTH,
      height: HEIGHT,
      values: indices,
      bitsAllocated: 8,
      photometric: 'PALETTE COLOR',
      extra: { ...lut(0, 0), ...lut(1, 2), ...lut(2, 0) },
    };
    const at = (c: number, index: number, first: number) => table(c)[Math.min(15, Math.max(0, index - first))] >> 8;
    expect(await greyOf(spec)).toEqual(indices.map((i) => luma(at(0, i, 0), at(1, i, 2), at(2, i, 0))));
  });

  it('JPEG lossless and JPEG-LS RGB: exact', async () => {
    for (const encoding of ['jpeg-lossless', 'jpeg-ls'] as const)
      expect(await greyOf(colour(interleaved, { encoding })), encoding).toEqual(expected);
  });

  it('JPEG 2000 lossless RGB (its colour transform undone by the codec): exact', async () => {
    // OpenJPEG's encoder wants more than 8 x 8 for three components.
    const side = 64;
    const pixels = Array.from({ length: side * side }, (_, p) => [(p * 53) % 256, (p * 7) % 256, (p * 13) % 256]);
    const spec = { ...colour(pixels.flat()), width: side, height: side };
    const { pixels: grey } = await decodeDicom(await writeDicom({ ...spec, encoding: 'jpeg-2000' }), side);
    expect([...grey]).toEqual(pixels.map(([r, g, b]) => luma(r, g, b)));
  });

  it.skipIf(!canWriteJpeg)('JPEG baseline YCbCr (PIL): close to the source’s luminance', async () => {
    // Smooth colours: JPEG's steps are small there.
    const smooth = Array.from({ length: PIXELS }, (_, p) => [100 + (p % WIDTH) * 10, 60 + p, 200 - (p % WIDTH) * 8]);
    const grey = await greyOf(colour(smooth.flat(), { encoding: 'jpeg-baseline', photometric: 'YBR_FULL_422' }));
    expectClose(
      grey,
      smooth.map(([r, g, b]) => luma(r, g, b)),
      6,
    );
  });

  it('refuses what cannot be turned into grey, in words', async () => {
    const cases: [Partial<DicomSpec>, RegExp][] = [
      [{ photometric: 'CMYK', samplesPerPixel: 4 }, /CMYK image with 4 samples a pixel cannot be turned into grey/],
      [{ photometric: 'RGB', samplesPerPixel: 1 }, /RGB image with 1 samples a pixel is not valid \(3 samples are\)/],
      [{ photometric: 'YBR_ICT' }, /YBR_ICT image with 3 samples a pixel cannot be uncompressed data/],
      [{ photometric: 'PALETTE COLOR', samplesPerPixel: 1 }, /PALETTE COLOR image without a complete palette/],
    ];
    for (const [extra, message] of cases) {
      const values = Array(PIXELS * (extra.samplesPerPixel ?? 3)).fill(0);
      await expect(decodeDicom(await writeDicom(colour(values, extra)), WIDTH)).rejects.toThrow(message);
    }
  });
});
