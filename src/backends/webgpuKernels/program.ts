/**
 * What our WebGPU kernels use of tfjs' WebGPU backend: its program interface (WebGPUProgram: variable
 * names, output shape, workgroup size, WGSL from getUserCode) and backend.runWebGPUProgram, which
 * compiles a program once per shader key, binds the inputs, the output and the uniforms, and records
 * the dispatch in the backend's own command queue (so our kernels interleave with tfjs' in order).
 * Declared here, not imported: the package's types need @webgpu/types, and its code is a chunk of its own.
 *
 * Every program here is flat: one invocation per output element, `index` its position, 64 to a
 * workgroup; tfjs reshapes a dispatch too large for one dimension. The header tfjs writes declares each
 * input as `array<f32>` by its variable name, `result` for the output, and `uniforms` with every
 * tensor's shape, `size` (the output's element count) and the program's own uniforms after those.
 */
import type * as tf from '@tensorflow/tfjs';

export type TensorInfo = tf.TensorInfo;

export interface ProgramUniform {
  type: 'int32' | 'float32';
  data: number[];
}

interface WebgpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms?: string;
  getUserCode(): string;
}

/** The part of tfjs' WebGPUBackend the kernels call. */
export interface WebgpuBackendLike {
  runWebGPUProgram(
    program: WebgpuProgram,
    inputs: TensorInfo[],
    dtype: 'float32',
    uniforms?: ProgramUniform[],
  ): TensorInfo;
  disposeData(dataId: unknown, force?: boolean): boolean;
}

/** Invocations a workgroup: tfjs' own choice for flat element-wise programs. */
export const WORKGROUP_SIZE = 64;

export interface FlatProgram {
  /**
   * Names the shader: with the input ranks and types, the key of its compiled pipeline. It must name every
   * choice baked into the code (a shape baked in under one key would be reused for another).
   */
  key: string;
  inputs: readonly string[];
  outputShape: number[];
  /** WGSL declarations of the program's own uniforms, e.g. 'rows : i32, eps : f32,' (values in the same order). */
  uniforms?: string;
  /** WGSL functions used by `body`. */
  helpers?: string;
  /** WGSL run for each output element `index` (an i32 below uniforms.size); it writes result[index]. */
  body: string;
}

/** Runs one flat program on the WebGPU backend and returns its output (float32). */
export function runFlat(
  backend: WebgpuBackendLike,
  spec: FlatProgram,
  inputs: TensorInfo[],
  uniforms: ProgramUniform[] = [],
): TensorInfo {
  const size = spec.outputShape.reduce((a, b) => a * b, 1);
  const program: WebgpuProgram = {
    variableNames: [...spec.inputs],
    outputShape: spec.outputShape,
    shaderKey: `xray_${spec.key}`,
    dispatchLayout: { x: spec.outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / WORKGROUP_SIZE), 1, 1],
    workgroupSize: [WORKGROUP_SIZE, 1, 1],
    size: true,
    uniforms: spec.uniforms,
    getUserCode: () => `
      ${spec.helpers ?? ''}
      fn main(index : i32) {
        // Never true: reads every input, so that the pipeline's automatic layout binds each one, used or not.
        if (uniforms.size < 0) { result[0] = ${spec.inputs.map((name) => `f32(${name}[0])`).join(' + ')}; }
        if (index < uniforms.size) {
          ${spec.body}
        }
      }`,
  };
  return backend.runWebGPUProgram(program, inputs, 'float32', uniforms);
}

export const int32 = (...data: number[]): ProgramUniform => ({ type: 'int32', data });
export const float32 = (...data: number[]): ProgramUniform => ({ type: 'float32', data });
