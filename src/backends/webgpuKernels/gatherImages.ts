/**
 * GatherPackedImages on WebGPU (backends/packedImages.ts): one invocation a pixel of the batch finds its image's
 * chunk and word, shifts its byte out and scales it, so only the batch's indices go up each step. The scaling is
 * one float32 multiply by the float32 scale, as the CPU path's tf.mul: the very same floats. Words are int32
 * storage buffers, 4 bytes each; a chunk is at most what the device binds.
 */
import * as tf from '@tensorflow/tfjs';
import { messageOf } from '../../core/userError';
import { overrideKernels } from '../kernelOverrides';
import {
  GATHER_PACKED_IMAGES,
  setPackedLayout,
  type GatherPackedImagesAttrs,
  type PackedLayout,
  type UploadWatch,
} from '../packedImages';
import { BACKEND } from './convFilterGrad';
import { float32, int32, runFlat, type TensorInfo, type WebgpuBackendLike } from './program';

/** The chunk's word at `word`: a switch over the bound chunks (WGSL has no arrays of storage buffers). */
function readWord(chunks: number): string {
  const cases = Array.from({ length: chunks }, (_, i) => `if (chunk == ${i}) { return chunk${i}[word]; }`).join('\n');
  return `fn readWord(chunk : i32, word : i32) -> i32 {\n${cases}\nreturn 0;\n}`;
}

export function gatherPackedImagesWebgpu(args: {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs: GatherPackedImagesAttrs;
}): TensorInfo {
  const backend = args.backend as WebgpuBackendLike;
  const { size, imagesPerChunk, chunks, scale, bytesPerWord } = args.attrs;
  if (bytesPerWord !== WEBGPU_LAYOUT.bytesPerWord) throw new Error(`WebGPU packs 4 bytes a word, not ${bytesPerWord}.`);
  const names = Array.from({ length: chunks }, (_, i) => `chunk${i}`);
  const picks = args.inputs.picks;
  const program = {
    key: `gatherPackedImages_${chunks}`,
    inputs: ['picks', ...names],
    outputShape: [picks.shape[0], size, size, 1],
    uniforms: 'area : i32, perChunk : i32, scale : f32,',
    helpers: readWord(chunks),
    body: `
      let image = index / uniforms.area;
      let source = picks[image];
      let chunk = source / uniforms.perChunk;
      let offset = (source - chunk * uniforms.perChunk) * uniforms.area + (index - image * uniforms.area);
      let byte = (readWord(chunk, offset / 4) >> u32((offset % 4) * 8)) & 255;
      result[index] = f32(byte) * uniforms.scale;`,
  };
  const inputs = [picks, ...names.map((name) => args.inputs[name])];
  return runFlat(backend, program, inputs, [int32(size * size), int32(imagesPerChunk), float32(scale)]);
}

/** What the GPU device says of its buffers (WebGPU's limits), and its error scopes. */
interface GpuDeviceLike {
  limits?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number };
  pushErrorScope?(filter: 'out-of-memory' | 'validation'): void;
  popErrorScope?(): Promise<{ message: string } | null>;
}

/** The largest chunk the GPU binds: WebGPU's default limits (128 MiB a binding) where it says nothing. */
export function webgpuChunkLimitBytes(device: GpuDeviceLike | undefined): number {
  const binding = device?.limits?.maxStorageBufferBindingSize ?? 128 * 2 ** 20;
  const buffer = device?.limits?.maxBufferSize ?? binding;
  return Math.min(binding, buffer);
}

/** The error a scope caught, if any; a scope that cannot be read (a lost device) counts as a failure. */
async function popScope(device: GpuDeviceLike | undefined): Promise<{ message: string } | null> {
  try {
    return (await device?.popErrorScope?.()) ?? null;
  } catch (error) {
    return { message: messageOf(error) };
  }
}

/** A buffer the GPU cannot give is no exception in WebGPU: its error scopes tell. */
function watchUpload(backend: unknown): UploadWatch {
  const device = (backend as { device?: GpuDeviceLike }).device;
  device?.pushErrorScope?.('out-of-memory');
  device?.pushErrorScope?.('validation');
  return {
    async done() {
      const scoped = [await popScope(device), await popScope(device)].find((e) => e);
      return scoped ? scoped.message : null;
    },
  };
}

export const WEBGPU_LAYOUT: PackedLayout = {
  bytesPerWord: 4,
  chunkLimitBytes: (backend) => webgpuChunkLimitBytes((backend as { device?: GpuDeviceLike }).device),
  watchUpload,
  usable: () => true,
};

/** Puts GatherPackedImages in for WebGPU; idempotent. Call after tfjs-backend-webgpu is loaded (webgpu.ts does). */
export function registerWebgpuImageKernels(): void {
  overrideKernels(BACKEND, [
    { kernelName: GATHER_PACKED_IMAGES, kernelFunc: gatherPackedImagesWebgpu as unknown as tf.KernelFunc },
  ]);
  setPackedLayout(BACKEND, WEBGPU_LAYOUT);
}
