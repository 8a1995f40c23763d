/**
 * The pixel arithmetic of bench:accuracy's acquisition shifts (scripts/oodShifts.ts): a grey image (0..1, row by row)
 * in, the shifted one out (not clipped). Self-contained on purpose: the page runs this function's own source text
 * (`shiftGrey.toString()`), so it may use nothing from outside its body. The crop is drawn by the page's canvas.
 */

/**
 * The control: the sample unchanged, but drawn, saved as PNG and resized by the page as every shifted set is (the
 * sample `as is` is its own JPEG files). What the detector flags here comes from that path alone.
 */
export const AS_PNG = 'as is, as PNG';

/** Every shift this file knows, in the order bench:accuracy prints them (`crop 70%` is drawn by the canvas). */
export const SHIFT_NAMES = [
  'inverted',
  'gamma 0.5',
  'gamma 2',
  'contrast x0.5',
  'crop 70%',
  'blur 2 px',
  'noise',
  // Held out: image processing no lever of the app trains on.
  'sharpen',
  'equalize',
  'low-res',
] as const;

/**
 * `grey` (w x h) shifted by `shift`; `gaussian` draws the noise (a seeded stream, shared by the images of a set).
 * Blur and sharpen scale with the image: sigma 2 px at 150 px, so the same share of the film at any file size.
 */
export function shiftGrey(
  grey: Float32Array,
  w: number,
  h: number,
  shift: string,
  gaussian: () => number,
): Float32Array {
  /** A separable Gaussian blur of `sigma` px, edges clamped. */
  const blurred = (src0: Float32Array, sigma: number) => {
    const radius = Math.ceil(3 * sigma);
    const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma ** 2)));
    const total = kernel.reduce((a, b) => a + b, 0);
    const pass = (src: Float32Array, horizontal: boolean) => {
      const dst = new Float32Array(src.length);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let sum = 0;
          for (let k = -radius; k <= radius; k++) {
            const xx = horizontal ? Math.min(w - 1, Math.max(0, x + k)) : x;
            const yy = horizontal ? y : Math.min(h - 1, Math.max(0, y + k));
            sum += kernel[k + radius] * src[yy * w + xx];
          }
          dst[y * w + x] = sum / total;
        }
      }
      return dst;
    };
    return pass(pass(src0, true), false);
  };

  /**
   * One axis resampled from `from` to `to` samples with PIL's bilinear filter (a triangle whose support widens with
   * the reduction, so a downsample averages rather than aliases). Along `x`, `lines` rows of `from` samples; along
   * `y`, `from` rows of `lines` samples.
   */
  const resampled = (src: Float32Array, from: number, to: number, lines: number, along: 'x' | 'y') => {
    const scale = from / to;
    const widen = Math.max(scale, 1);
    const out = new Float32Array(to * lines);
    for (let i = 0; i < to; i++) {
      const centre = (i + 0.5) * scale;
      const first = Math.max(Math.floor(centre - widen + 0.5), 0);
      const last = Math.min(Math.floor(centre + widen + 0.5), from);
      const weights: number[] = [];
      for (let j = first; j < last; j++) weights.push(Math.max(0, 1 - Math.abs((j - centre + 0.5) / widen)));
      const total = weights.reduce((a, b) => a + b, 0);
      for (let line = 0; line < lines; line++) {
        let sum = 0;
        for (let j = first; j < last; j++)
          sum += weights[j - first] * (along === 'x' ? src[line * from + j] : src[j * lines + line]);
        out[along === 'x' ? line * to + i : i * lines + line] = sum / total;
      }
    }
    return out;
  };

  /** Histogram equalisation of the 8-bit grey, as PIL's ImageOps.equalize builds its table. */
  const equalized = (src: Float32Array) => {
    const bytes = Array.from(src, (v) => Math.round(255 * Math.min(1, Math.max(0, v))));
    const histogram = new Array<number>(256).fill(0);
    for (const b of bytes) histogram[b]++;
    const used = histogram.filter((n) => n > 0);
    const step = used.length <= 1 ? 0 : Math.floor((bytes.length - used[used.length - 1]) / 256);
    if (step === 0) return Float32Array.from(bytes, (b) => b / 255);
    const table: number[] = [];
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      table.push(Math.min(255, Math.floor(n / step)));
      n += histogram[i];
    }
    return Float32Array.from(bytes, (b) => table[b] / 255);
  };

  const mean = grey.reduce((a, b) => a + b, 0) / grey.length;
  const sigma = (2 * w) / 150;
  if (shift === 'blur 2 px') return blurred(grey, sigma);
  if (shift === 'sharpen') {
    // Unsharp mask: the image plus once its difference from its blur.
    const soft = blurred(grey, sigma);
    return grey.map((v, i) => v + 1.0 * (v - soft[i]));
  }
  if (shift === 'equalize') return equalized(grey);
  if (shift === 'low-res') {
    // A quarter of the side, then back up: rows, then columns, each way.
    const [sw, sh] = [Math.max(1, Math.round(w / 4)), Math.max(1, Math.round(h / 4))];
    const small = resampled(resampled(grey, w, sw, h, 'x'), h, sh, sw, 'y');
    return resampled(resampled(small, sw, w, sh, 'x'), sh, h, w, 'y');
  }
  return grey.map((v) => {
    if (shift === 'inverted') return 1 - v;
    if (shift === 'gamma 0.5') return v ** 0.5;
    if (shift === 'gamma 2') return v ** 2;
    if (shift === 'contrast x0.5') return mean + 0.5 * (v - mean);
    if (shift === 'noise') return v + 0.1 * gaussian();
    return v;
  });
}
