/**
 * Split reductions for our WebGL kernels (webglConvGradients.ts, webglBatchNorm.ts), and the plumbing
 * they share. tfjs' WebGL kernels that sum a large axis give each output one fragment that sums the whole
 * axis: the filter gradient of a 2x2 convolution is 2x2xCinxCout fragments, each summing N·H·W products,
 * so a GPU with thousands of lanes runs a few hundred of them. Here a first pass writes partial sums, one
 * fragment per (output, chunk of rows of the summed axis), into a [chunks, outputs] texture, and then
 * row-summing passes fold the chunks, at most ROWS_A_FOLD at a time, until one row is left.
 */
import type * as tf from '@tensorflow/tfjs';
import type { GPGPUProgram, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';

type TensorInfo = tf.TensorInfo;

export const BACKEND = 'webgl';

export type { KernelArgs as WebglKernelArgs } from './kernelOverrides';

/**
 * About this many terms a fragment of a first pass sums: enough that a fragment's fixed cost (texture
 * coordinates, the write) is small beside its loop, few enough that a batch of 32 at 150 px gives tens of
 * thousands of fragments. Chosen by that arithmetic, not measured on a GPU (there is none here).
 */
export const TERMS_A_FRAGMENT = 1024;

/** Partial sums a folding pass adds up a fragment (a fold of 341 chunks: 341 -> 22 -> 2 -> 1). */
export const ROWS_A_FOLD = 16;

/** How many rows of `termsARow` terms each chunk of a first pass sums, for `rows` rows in all. */
export function rowsAChunk(rows: number, termsARow: number, termsAFragment = TERMS_A_FRAGMENT): number {
  return Math.max(1, Math.min(rows, Math.ceil(termsAFragment / Math.max(1, termsARow))));
}

/** Adds up `rows` consecutive rows of partials [rows, columns] a fragment: [ceil(rows / ROWS), columns]. */
class FoldRowsProgram implements GPGPUProgram {
  readonly variableNames = ['partials'];
  readonly outputShape: number[];
  readonly userCode: string;

  constructor(rows: number, columns: number, rowsAFold: number) {
    this.outputShape = [Math.ceil(rows / rowsAFold), columns];
    this.userCode = `
      void main() {
        ivec2 coords = getOutputCoords();
        int first = coords.x * ${rowsAFold};
        float sum = 0.0;
        for (int i = 0; i < ${rowsAFold}; i++) {
          int row = first + i;
          if (row >= ${rows}) break;
          sum += getPartials(row, coords.y);
        }
        setOutput(sum);
      }
    `;
  }
}

/**
 * Folds partial sums [chunks, columns] down to one row [1, columns]; disposes `partials` (it must be ours,
 * an intermediate of the kernel).
 */
export function foldRows(backend: MathBackendWebGL, partials: TensorInfo, rowsAFold = ROWS_A_FOLD): TensorInfo {
  let current = partials;
  while (current.shape[0] > 1) {
    const [rows, columns] = current.shape;
    const next = backend.runWebGLProgram(new FoldRowsProgram(rows, columns, rowsAFold), [current], 'float32');
    backend.disposeIntermediateTensorInfo(current);
    current = next;
  }
  return current;
}

/**
 * Per-channel partial sums over chunks of the n·h rows of an NHWC tensor: [chunks, c] of Σ first(b, r, col, ch), and
 * with a `second`, [chunks, 2c], the last c columns Σ first·second; `setup` runs once a fragment (it may define names
 * the terms use).
 */
export class ChannelSumsProgram implements GPGPUProgram {
  readonly outputShape: number[];
  readonly userCode: string;

  constructor(
    readonly variableNames: string[],
    [n, h, w, c]: [number, number, number, number],
    setup: string,
    first: string,
    second: string | null = null,
  ) {
    const rows = rowsAChunk(n * h, w);
    this.outputShape = [Math.ceil((n * h) / rows), second === null ? c : 2 * c];
    this.userCode = `
      void main() {
        ivec2 coords = getOutputCoords();
        int ch = imod(coords.y, ${c});
        bool both = coords.y >= ${c};
        ${setup}
        int start = coords.x * ${rows};
        float sum = 0.0;
        for (int i = 0; i < ${rows}; i++) {
          int row = start + i;
          if (row >= ${n * h}) break;
          int b = row / ${h};
          int r = row - b * ${h};
          for (int col = 0; col < ${w}; col++) {
            float a = ${first};
            ${second === null ? 'sum += a;' : `sum += both ? a * (${second}) : a;`}
          }
        }
        setOutput(sum);
      }
    `;
  }
}

/** The same unpacked texture seen with another shape (row-major order unchanged): WebGL's reshape of unpacked data. */
export function reshaped(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/** A float32 input of an NHWC kernel of ours: [n, h, w, c], or null when it is something else. */
export function nhwcFloat(t: TensorInfo | undefined): [number, number, number, number] | null {
  if (t === undefined || t.dtype !== 'float32' || t.shape.length !== 4) return null;
  return t.shape as [number, number, number, number];
}

/**
 * A GLSL float literal: a whole number needs the point (GLSL ES has no implicit int-to-float). Used for numbers fixed per
 * kernel shape (the pixel count of a channel): a program is compiled, and cached, per shape anyway.
 */
export function glslFloat(value: number): string {
  const text = String(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}
