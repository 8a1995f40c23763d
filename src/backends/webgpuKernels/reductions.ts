/**
 * Sums over many rows as two passes, so that a GPU's lanes share them: pass 1 cuts the rows into runs and has
 * one invocation per (run, output), each summing its run; pass 2 (sumRuns) one invocation per output, adding
 * its runs' partial sums in order. The filter gradient (convFilterGrad.ts) and the per-channel sums of
 * BatchNormalization and a bias gradient (channelSums) are such sums. tfjs' own reductions give a channel one
 * workgroup for all the rows of a batch.
 */
import { int32, runFlat, type TensorInfo, type WebgpuBackendLike } from './program';

/** Pass-1 invocations aimed at: enough to fill a large GPU, few enough that each sums a run of rows. */
const TARGET_INVOCATIONS = 65_536;

export interface RowSplit {
  /** Runs of rows, each summed by its own invocations. */
  runs: number;
  /** Rows a run (the last may have fewer; none is empty). */
  rowsPerRun: number;
}

/** How `rows` rows are cut into runs when each run has `outputs` sums to make. */
export function splitRows(rows: number, outputs: number): RowSplit {
  const wanted = Math.min(rows, Math.max(1, Math.ceil(TARGET_INVOCATIONS / outputs)));
  const rowsPerRun = Math.ceil(rows / wanted);
  return { runs: Math.ceil(rows / rowsPerRun), rowsPerRun };
}

/** Pass 2: partials [runs, m] summed over the runs, in order, into a tensor of `shape` (m elements). */
export function sumRuns(backend: WebgpuBackendLike, partials: TensorInfo, shape: number[]): TensorInfo {
  const program = {
    key: 'sumRuns',
    inputs: ['partials'],
    outputShape: shape,
    body: `
      let m = uniforms.partialsShape[1];
      var total = 0.0;
      for (var run = 0; run < uniforms.partialsShape[0]; run++) {
        total += partials[run * m + index];
      }
      result[index] = total;`,
  };
  return runFlat(backend, program, [partials]);
}

export interface ChannelTerms {
  /** Names the program (with `terms`, what the shader bakes in). */
  key: string;
  /** The inputs, the first of them [..., c] (channels last); others may be read by element or by channel. */
  inputs: readonly string[];
  /**
   * WGSL expressions summed over every pixel, one per term: `e` is the element's index in the first input,
   * `ch` its channel. `prelude` may define lets from them for the terms to share.
   */
  prelude?: string;
  terms: readonly string[];
}

/**
 * For each term and channel, the term summed over all pixels (every element of the first input's channel):
 * a tensor [terms, c] (or `shape`, of as many elements), made in two passes.
 */
export function channelSums(
  backend: WebgpuBackendLike,
  spec: ChannelTerms,
  inputs: TensorInfo[],
  shape?: number[],
): TensorInfo {
  const inputShape = inputs[0].shape;
  const c = inputShape[inputShape.length - 1];
  const pixels = inputShape.reduce((a, b) => a * b, 1) / c;
  const outputs = spec.terms.length * c;
  const { runs, rowsPerRun } = splitRows(pixels, outputs);
  const cases = spec.terms.map((term, t) => `case ${t}: { total += ${term}; }`).join('\n            ');
  const partialsProgram = {
    key: `channelSums_${spec.key}`,
    inputs: spec.inputs,
    outputShape: [runs, outputs],
    uniforms: 'channels : i32, pixels : i32, rowsPerRun : i32,',
    body: `
      let run = index / (uniforms.channels * ${spec.terms.length});
      let t = (index / uniforms.channels) % ${spec.terms.length};
      let ch = index % uniforms.channels;
      let first = run * uniforms.rowsPerRun;
      let last = min(first + uniforms.rowsPerRun, uniforms.pixels);
      var total = 0.0;
      for (var p = first; p < last; p++) {
        let e = p * uniforms.channels + ch;
        ${spec.prelude ?? ''}
        switch (t) {
          ${cases}
          default: {}
        }
      }
      result[index] = total;`,
  };
  const uniforms = [int32(c), int32(pixels), int32(rowsPerRun)];
  const partials = runFlat(backend, partialsProgram, inputs, uniforms);
  const sums = sumRuns(backend, partials, shape ?? [spec.terms.length, c]);
  backend.disposeData(partials.dataId);
  return sums;
}
