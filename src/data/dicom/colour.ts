/**
 * Colour DICOM images to the 8-bit grey the model takes, with the luminance the app uses for colour JPEGs and PNGs
 * (grey.ts: L = 0.299 R + 0.587 G + 0.114 B as PIL rounds it). YBR_FULL is turned into RGB first (PS3.3
 * C.7.6.3.1.2), YBR_FULL_422 likewise with one Cb and Cr for each two pixels of a row, and a PALETTE COLOR index
 * is looked up in its three tables. Samples of more than 8 bits keep their top 8.
 */
import { luma } from '../grey';
import type { DecodedFrame } from './codecs';
import { DicomError } from './dicomError';
import { lookUp, type Lut } from './luts';
import type { DicomImage } from './parse';

/** The image as the grey pipeline takes the output of colourToGrey: 8-bit grey that is its own display window. */
export function asGreyImage(image: DicomImage): DicomImage {
  return {
    ...image,
    bitsAllocated: 8,
    bitsStored: 8,
    signed: false,
    slope: 1,
    intercept: 0,
    modalityLut: null,
    window: null,
    voiLut: IDENTITY,
    photometric: 'MONOCHROME2',
    samplesPerPixel: 1,
    palette: null,
  };
}

const IDENTITY: Lut = { first: 0, bits: 8, data: Uint16Array.from({ length: 256 }, (_, i) => i) };

/** The frame of a colour or palette image in 8-bit grey, a byte a pixel. */
export function colourToGrey(image: DicomImage, frame: DecodedFrame): Uint8Array {
  const pixels = image.rows * image.columns;
  const { words } = frame;
  const grey = new Uint8Array(pixels);
  const shift = Math.max(0, image.bitsStored - 8);
  const mask = 2 ** image.bitsStored - 1;
  if (image.palette) {
    const { red, green, blue } = image.palette;
    const eight = (lut: Lut, index: number) => lookUp(lut, index) >> (lut.bits > 8 ? lut.bits - 8 : 0);
    for (let p = 0; p < pixels; p++) {
      const index = words[p] & mask;
      grey[p] = luma(eight(red, index), eight(green, index), eight(blue, index));
    }
    return grey;
  }
  const layout = frame.colour;
  if (!layout) throw new DicomError('DICOM: the colour frame came back without its layout');
  const sample = (word: number) => (word & mask) >> shift;
  if (layout.space === 'YBR_FULL_422') {
    if (image.columns % 2 !== 0) throw new DicomError('DICOM: YBR_FULL_422 image with an odd number of columns');
    // Y0 Y1 Cb Cr for each two pixels.
    for (let p = 0; p < pixels; p++) {
      const pair = (p & ~1) * 2;
      grey[p] = ybrToGrey(sample(words[pair + (p & 1)]), sample(words[pair + 2]), sample(words[pair + 3]));
    }
    return grey;
  }
  const stride = layout.planar ? 1 : 3;
  const step = layout.planar ? pixels : 1;
  const ybr = layout.space === 'YBR_FULL';
  for (let p = 0, at = 0; p < pixels; p++, at += stride) {
    const a = sample(words[at]);
    const b = sample(words[at + step]);
    const c = sample(words[at + 2 * step]);
    grey[p] = ybr ? ybrToGrey(a, b, c) : luma(a, b, c);
  }
  return grey;
}

const clamp = (value: number) => Math.min(255, Math.max(0, Math.round(value)));

/** Full-range YCbCr (8-bit) to RGB, then grey. */
function ybrToGrey(y: number, cb: number, cr: number): number {
  const r = clamp(y + 1.402 * (cr - 128));
  const g = clamp(y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128));
  const b = clamp(y + 1.772 * (cb - 128));
  return luma(r, g, b);
}
