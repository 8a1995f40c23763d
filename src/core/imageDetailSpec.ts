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
