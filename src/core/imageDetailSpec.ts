/**
 * The numbers that define an image's detail at four scales (model/imageDetail.ts computes it in tfjs, the ONNX export
 * as graph nodes, the PyTorch bundle in torch): one place, so that every runtime judges images alike.
 */

/** Scales: the input, then three halvings. */
export const DETAIL_OCTAVES = 4;
/** The smallest input side that still has 3x3 pixels at the last octave (24 >> 3 = 3). */
export const MIN_DETAIL_SIZE = 3 << (DETAIL_OCTAVES - 1);
/** Keeps the logarithm finite on a flat image. */
export const DETAIL_EPSILON = 1e-4;
/** The 3x3 Laplacian, row by row. */
export const LAPLACIAN: readonly number[] = [0, -1, 0, -1, 4, -1, 0, -1, 0];

/**
 * The mean over the octaves of an image's detail (the numbers model/imageDetail.ts computes in tfjs), for grey bytes
 * `width` x `height` read as value / 255: one number a film, for the dataset's health report (data/classShortcuts.ts).
 * NaN for an image smaller than MIN_DETAIL_SIZE a side.
 */
export function meanImageDetail(pixels: ArrayLike<number>, width: number, height: number): number {
  if (Math.min(width, height) < MIN_DETAIL_SIZE || pixels.length < width * height) return Number.NaN;
  // Laplacians and averages of the bytes, scaled by 1 / 255 once at the end of each octave's sum.
  let x = new Float64Array(width * height);
  for (let i = 0; i < x.length; i++) x[i] = pixels[i];
  let w = width;
  let h = height;
  let sum = 0;
  for (let k = 0; k < DETAIL_OCTAVES; k++) {
    if (k > 0) {
      // A 2x2 average, an odd last row or column dropped.
      const half = new Float64Array((w >> 1) * (h >> 1));
      for (let y = 0; y < h >> 1; y++)
        for (let c = 0; c < w >> 1; c++) {
          const at = 2 * y * w + 2 * c;
          half[y * (w >> 1) + c] = (x[at] + x[at + 1] + x[at + w] + x[at + w + 1]) / 4;
        }
      x = half;
      w >>= 1;
      h >>= 1;
    }
    // The Laplacian over the pixels it covers whole ('valid').
    let edges = 0;
    for (let y = 1; y < h - 1; y++)
      for (let c = 1; c < w - 1; c++) {
        const at = y * w + c;
        edges += Math.abs(4 * x[at] - x[at - w] - x[at + w] - x[at - 1] - x[at + 1]);
      }
    sum += Math.log(edges / 255 / ((h - 2) * (w - 2)) + DETAIL_EPSILON);
  }
  return sum / DETAIL_OCTAVES;
}
