/**
 * GatherPackedImages on WebGPU (backends/packedImages.ts): one invocation a pixel of the batch finds its image's
 * chunk and word, shifts its byte out and scales it, so only the batch's indices go up each step. The scaling is
 * one float32 multiply by the float32 scale, as the CPU path's tf.mul: the very same floats.
 */
import * as tf from '@tensorflow/tfjs';
import { overrideKernels } from '../kernelOverrides';
import { GATHER_PACKED_IMAGES, type GatherPackedImagesAttrs } from '../packedImages';
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
  const { size, imagesPerChunk, chunks, scale } = args.attrs;
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

/** Puts GatherPackedImages in for WebGPU; idempotent. Call after tfjs-backend-webgpu is loaded (webgpu.ts does). */
export function registerWebgpuImageKernels(): void {
  overrideKernels(BACKEND, [
    { kernelName: GATHER_PACKED_IMAGES, kernelFunc: gatherPackedImagesWebgpu as unknown as tf.KernelFunc },
  ]);
}
