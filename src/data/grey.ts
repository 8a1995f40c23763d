/**
 * RGBA → grey, as Keras' `color_mode='grayscale'` gets it: PIL's `convert('L')`, i.e.
 * L = 0.299 R + 0.587 G + 0.114 B, rounded, in PIL's own fixed-point form (ImagingConvert L24),
 * so the two agree to the last bit. Alpha is dropped as PIL drops it; a canvas already
 * holds transparent pixels as black, which is the "composited on black" the model sees.
 * Equal channels come out unchanged (the weights sum to exactly 65536).
 */
export function rgbaToGrey(rgba: Uint8ClampedArray | Uint8Array, out?: Uint8Array): Uint8Array {
  const count = rgba.length >> 2;
  const grey = out ?? new Uint8Array(count);
  if (grey.length < count) throw new RangeError(`rgbaToGrey: output holds ${grey.length} pixels, input ${count}`);
  for (let i = 0, j = 0; i < count; i++, j += 4) {
    grey[i] = luma(rgba[j], rgba[j + 1], rgba[j + 2]);
  }
  return grey;
}

/** One 8-bit RGB pixel's grey, as rgbaToGrey takes it (DICOM colour images are turned into grey with it too). */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}
