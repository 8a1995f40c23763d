/**
 * Stored DICOM samples to the 8-bit grey the model takes (PS3.3 C.11): Modality LUT (the Modality LUT Sequence's
 * table, else rescale slope and intercept), then the VOI LUT, else the first window (Window Center/Width with its
 * VOI LUT Function), else the frame's own range; MONOCHROME1 inverted. All of it is folded into one table over the stored values (at most 2^16 entries),
 * so a 2k x 2k frame costs one lookup a pixel.
 */
import type { DicomImage } from './parse';
import type { FrameWords } from './codecs';
import { lookUp } from './luts';

/** The grey table: index = stored word & (2^bitsStored - 1). */
export function greyTable(
  image: Pick<
    DicomImage,
    'bitsStored' | 'signed' | 'slope' | 'intercept' | 'modalityLut' | 'window' | 'voiLut' | 'photometric'
  >,
  words: FrameWords,
): Uint8Array {
  const entries = 2 ** image.bitsStored;
  const half = entries / 2;
  const modality = new Float64Array(entries);
  const { modalityLut } = image;
  for (let i = 0; i < entries; i++) {
    const stored = image.signed && i >= half ? i - entries : i;
    modality[i] = modalityLut ? lookUp(modalityLut, stored) : stored * image.slope + image.intercept;
  }
  const table = new Uint8Array(entries);
  const invert = image.photometric === 'MONOCHROME1';
  const put = (i: number, grey: number) => {
    const value = Math.round(Math.min(255, Math.max(0, grey)));
    table[i] = invert ? 255 - value : value;
  };
  const { voiLut, window } = image;
  if (voiLut) {
    const scale = 255 / (2 ** voiLut.bits - 1);
    for (let i = 0; i < entries; i++) put(i, lookUp(voiLut, modality[i]) * scale);
  } else if (window) {
    const { center: c, width: w, fn } = window;
    for (let i = 0; i < entries; i++) put(i, windowed(modality[i], c, w, fn));
  } else {
    // No window: the frame's own range of modality values, the darkest black and the brightest white.
    const mask = entries - 1;
    let low = Infinity;
    let high = -Infinity;
    for (let p = 0; p < words.length; p++) {
      const value = modality[words[p] & mask];
      if (value < low) low = value;
      if (value > high) high = value;
    }
    const span = high > low ? high - low : 1;
    for (let i = 0; i < entries; i++) put(i, ((modality[i] - low) / span) * 255);
  }
  return table;
}

/** PS3.3 C.11.2.1.2: a value through a window, 0..255. */
export function windowed(x: number, c: number, w: number, fn: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID'): number {
  if (fn === 'SIGMOID') return 255 / (1 + Math.exp((-4 * (x - c)) / w));
  if (fn === 'LINEAR_EXACT') {
    if (x <= c - w / 2) return 0;
    if (x > c + w / 2) return 255;
    return ((x - c) / w + 0.5) * 255;
  }
  if (w < 1) return x <= c - 0.5 ? 0 : 255;
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 255;
  return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
}

/** The frame in 8-bit grey at its stored size. */
export function toGrey(image: DicomImage, words: FrameWords): Uint8Array {
  const table = greyTable(image, words);
  const mask = 2 ** image.bitsStored - 1;
  const out = new Uint8Array(image.rows * image.columns);
  for (let p = 0; p < out.length; p++) out[p] = table[words[p] & mask];
  return out;
}

/**
 * The frame in 8-bit grey at `size` x `size`. Shrinking (the usual case: a 2k film to 150 px) is one pass: each
 * stored word looked up and added to the output pixel whose area holds it, then each sum divided by its count (a
 * box filter on whole source pixels); enlarging goes through toGrey and resizeGrey.
 */
export function greyAtSize(image: DicomImage, words: FrameWords, size: number): Uint8Array {
  const { columns: width, rows: height } = image;
  if (width < size || height < size) return resizeGrey(toGrey(image, words), width, height, size);
  const table = greyTable(image, words);
  const mask = 2 ** image.bitsStored - 1;
  const binOf = (from: number) => Uint32Array.from({ length: from }, (_, i) => Math.floor((i * size) / from));
  const columnBin = binOf(width);
  const rowBin = binOf(height);
  const sums = new Uint32Array(size * size);
  let p = 0;
  for (let y = 0; y < height; y++) {
    const row = rowBin[y] * size;
    for (let x = 0; x < width; x++) sums[row + columnBin[x]] += table[words[p++] & mask];
  }
  const perColumn = new Uint32Array(size);
  const perRow = new Uint32Array(size);
  for (const bin of columnBin) perColumn[bin]++;
  for (const bin of rowBin) perRow[bin]++;
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) out[y * size + x] = Math.round(sums[y * size + x] / (perRow[y] * perColumn[x]));
  return out;
}

/**
 * A grey image squashed to `size` x `size` (as Keras' target_size and the other images here: no crop), each output
 * pixel the mean of the source area it covers, edge pixels weighed by the share they cover.
 */
export function resizeGrey(source: Uint8Array, width: number, height: number, size: number): Uint8Array {
  if (width === size && height === size) return source.slice();
  const columns = taps(width, size);
  const rows = taps(height, size);
  // Rows first: each source row becomes `size` sums, then columns of those.
  const across = new Float32Array(height * size);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < size; x++) {
      const { start, weights } = columns[x];
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += source[row + start + k] * weights[k];
      across[y * size + x] = sum;
    }
  }
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const { start, weights } = rows[y];
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += across[(start + k) * size + x] * weights[k];
      out[y * size + x] = Math.round(sum);
    }
  }
  return out;
}

/** For each output pixel along one axis: the first source pixel it covers and each covered pixel's weight (summing to 1). */
function taps(from: number, to: number): { start: number; weights: Float32Array }[] {
  const step = from / to;
  return Array.from({ length: to }, (_, i) => {
    const begin = i * step;
    const end = Math.min(from, begin + step);
    const start = Math.floor(begin);
    const stop = Math.max(start + 1, Math.ceil(end));
    const weights = new Float32Array(stop - start);
    for (let k = 0; k < weights.length; k++) {
      const overlap = Math.min(end, start + k + 1) - Math.max(begin, start + k);
      weights[k] = Math.max(0, overlap) / (end - begin);
    }
    return { start, weights };
  });
}
