/**
 * Programs that write several outputs in one dispatch. tfjs' WebGPU programs (program.ts' runFlat) bind one writable
 * buffer, so a kernel with three outputs took three passes, each recomputing what it needed of the others. Here our
 * own pipeline binds every output read_write and every input read-only, and is recorded in the backend's own
 * compute pass and command queue, as tfjs records its programs (tfjs-backend-webgpu 4.22's recordAndSubmit): in
 * order with tfjs' kernels, inputs and outputs kept alive until the queue is submitted, the queue submitted every
 * WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE dispatches, and timed under tf.profile. Those backend fields are private in
 * tfjs: where one is missing (another tfjs version), runMultiOutput returns null and the caller runs one pass an
 * output instead.
 */
import * as tf from '@tensorflow/tfjs';
import { int32, WORKGROUP_SIZE, type ProgramUniform, type TensorInfo } from './program';

/** The WebGPU objects used here, declared structurally (the package's types need @webgpu/types). */
interface Pipeline {
  getBindGroupLayout(index: number): unknown;
}
interface ComputePass {
  setPipeline(pipeline: Pipeline): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y: number, z: number): void;
}
interface Device {
  limits: { maxComputeWorkgroupsPerDimension: number };
  createShaderModule(descriptor: { code: string; label?: string }): unknown;
  createComputePipeline(descriptor: {
    layout: 'auto';
    compute: { module: unknown; entryPoint: string };
    label?: string;
  }): Pipeline;
  createBindGroup(descriptor: { layout: unknown; entries: { binding: number; resource: unknown }[] }): unknown;
  createQuerySet(descriptor: { type: 'timestamp'; count: number }): unknown;
}

/** tfjs-backend-webgpu 4.22's WebGPUBackend, as far as a dispatch of ours needs it. */
interface BackendInternals {
  device: Device;
  tensorMap: { get(dataId: unknown): { resource?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: 'float32'): TensorInfo;
  uploadToGPU(dataId: unknown): void;
  makeUniforms(uniforms: ProgramUniform[]): unknown;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  getQueryTime(): Promise<number>;
  commandEncoder: { beginComputePass(descriptor: object): ComputePass };
  computePassEncoder: ComputePass | null;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  activeTimers: { name: string; query: Promise<number> }[] | null | undefined;
  supportTimestampQuery: boolean;
  querySet: unknown;
  querySetCount: number;
}

const METHODS = [
  'makeTensorInfo',
  'uploadToGPU',
  'makeUniforms',
  'ensureCommandEncoderReady',
  'endComputePassEncoder',
  'submitQueue',
  'getQueryTime',
] as const;

/** Whether `backend` has what a dispatch of ours is recorded with (tfjs-backend-webgpu 4.22 has). */
export function recordsOwnDispatches(backend: unknown): backend is BackendInternals {
  const b = backend as Partial<BackendInternals> | null;
  return (
    b != null &&
    METHODS.every((name) => typeof b[name] === 'function') &&
    typeof b.device?.createComputePipeline === 'function' &&
    typeof b.tensorMap?.get === 'function' &&
    b.commandQueueOwnedIds instanceof WeakSet &&
    typeof b.dispatchCountInPass === 'number' &&
    'computePassEncoder' in b &&
    typeof b.querySetCount === 'number'
  );
}

export interface MultiOutputProgram {
  /** Names the pipeline (cached per device under it) and labels it 'xray_<key>'. */
  key: string;
  /** Read-only inputs, f32 arrays by these names. */
  inputs: readonly string[];
  /** Outputs, f32 arrays of outputShape's size by these names, each written by `body`. */
  outputs: readonly string[];
  outputShape: number[];
  /** WGSL fields of the program's own uniforms, e.g. 'decay : f32, rest : f32,' (values in the same order). */
  uniforms: string;
  /** WGSL run for each element `index` (an i32 below uniforms.size). */
  body: string;
}

const pipelines = new WeakMap<object, Map<string, Pipeline>>();

function shaderOf(spec: MultiOutputProgram): string {
  const names = [...spec.outputs, ...spec.inputs];
  const bindings = names.map(
    (name, i) =>
      `@group(0) @binding(${i}) var<storage, ${i < spec.outputs.length ? 'read_write' : 'read'}> ${name} : array<f32>;`,
  );
  return `
    struct Uniforms { size : i32, groupsX : i32, ${spec.uniforms} };
    ${bindings.join('\n    ')}
    @group(0) @binding(${names.length}) var<uniform> uniforms : Uniforms;

    @compute @workgroup_size(${WORKGROUP_SIZE})
    fn main(@builtin(global_invocation_id) id : vec3<u32>) {
      let index = i32(id.y) * uniforms.groupsX * ${WORKGROUP_SIZE} + i32(id.x);
      if (index >= uniforms.size) { return; }
      ${spec.body}
    }`;
}

function pipelineOf(device: Device, spec: MultiOutputProgram): Pipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  let pipeline = cache.get(spec.key);
  if (!pipeline) {
    const label = `xray_${spec.key}`;
    const module = device.createShaderModule({ code: shaderOf(spec), label });
    pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
    cache.set(spec.key, pipeline);
  }
  return pipeline;
}

/**
 * Runs `spec` in one dispatch and returns its outputs (new float32 tensors of outputShape, in spec.outputs' order);
 * null where the backend lacks what it needs (the caller then runs its passes through runFlat).
 */
export function runMultiOutput(
  backend: unknown,
  spec: MultiOutputProgram,
  inputs: TensorInfo[],
  uniforms: ProgramUniform[],
): TensorInfo[] | null {
  const size = spec.outputShape.reduce((a, b) => a * b, 1);
  if (size === 0 || !recordsOwnDispatches(backend)) return null;
  const b = backend;
  const outputs = spec.outputs.map(() => b.makeTensorInfo(spec.outputShape, 'float32'));
  const tensors = [...outputs, ...inputs];
  for (const t of tensors) b.uploadToGPU(t.dataId);
  const pipeline = pipelineOf(b.device, spec);
  // tfjs spreads a dispatch of more than the per-dimension limit of workgroups over two dimensions; so does this.
  const groups = Math.ceil(size / WORKGROUP_SIZE);
  const groupsX = Math.min(groups, b.device.limits.maxComputeWorkgroupsPerDimension);
  const entries: { binding: number; resource: unknown }[] = tensors.map((t, i) => ({
    binding: i,
    resource: { buffer: b.tensorMap.get(t.dataId)?.resource },
  }));
  entries.push({ binding: tensors.length, resource: b.makeUniforms([int32(size), int32(groupsX), ...uniforms]) });
  const bindGroup = b.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  // Disposed meanwhile, their buffers are released only once the queue holding this dispatch is submitted.
  for (const t of tensors) b.commandQueueOwnedIds.add(t.dataId as object);
  b.ensureCommandEncoderReady();
  const timed = b.activeTimers != null;
  if (timed && b.supportTimestampQuery) {
    b.endComputePassEncoder();
    b.querySet ??= b.device.createQuerySet({ type: 'timestamp', count: b.querySetCount });
    const timestampWrites = { querySet: b.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
    b.computePassEncoder = b.commandEncoder.beginComputePass({ timestampWrites });
  } else if (!b.computePassEncoder) {
    b.computePassEncoder = b.commandEncoder.beginComputePass({});
  }
  b.computePassEncoder.setPipeline(pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(groupsX, Math.ceil(groups / groupsX), 1);
  b.dispatchCountInPass++;
  if (timed || (tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= b.dispatchCountInPass) {
    b.endComputePassEncoder();
    if (timed) b.activeTimers!.push({ name: spec.key, query: b.getQueryTime() });
    else b.submitQueue();
  }
  return outputs;
}
