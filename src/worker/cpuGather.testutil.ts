/**
 * GatherPackedImages on the cpu backend, for Node tests of resident splits: it unpacks as the GPU programs do
 * (unpackByte), with a layout like WebGPU's (4 bytes a word) or WebGL's (3). The GPU programs themselves are checked
 * in Chromium (e2e/webgpuKernels.spec.ts, e2e/webglKernels.spec.ts).
 */
import * as tf from '@tensorflow/tfjs';
import {
  GATHER_PACKED_IMAGES,
  setPackedLayout,
  unpackByte,
  type GatherPackedImagesAttrs,
  type PackedLayout,
} from '../backends/packedImages';

export function gatherOnCpu(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const attrs = args.attrs as unknown as GatherPackedImagesAttrs;
  const read = (info: tf.TensorInfo | undefined) =>
    (args.backend as { readSync(id: unknown): Int32Array }).readSync(info!.dataId);
  const picks = read(args.inputs.picks);
  const chunks = Array.from({ length: attrs.chunks }, (_, i) => read(args.inputs[`chunk${i}`]));
  const area = attrs.size * attrs.size;
  const out = new Float32Array(picks.length * area);
  for (let i = 0; i < out.length; i++) {
    const source = picks[Math.floor(i / area)];
    const chunk = Math.floor(source / attrs.imagesPerChunk);
    out[i] =
      unpackByte(chunks[chunk], (source - chunk * attrs.imagesPerChunk) * area + (i % area), attrs.bytesPerWord) *
      Math.fround(attrs.scale);
  }
  const backend = args.backend as {
    makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo;
  };
  return backend.makeTensorInfo([picks.length, attrs.size, attrs.size, 1], 'float32', out);
}

/** A layout for the cpu backend, as WebGPU's (4 bytes a word) or WebGL's (3), with a GPU error to report or not. */
export function cpuLayout(bytesPerWord: number, uploadError: string | null = null): PackedLayout {
  return {
    bytesPerWord,
    chunkLimitBytes: () => 128 * 2 ** 20,
    watchUpload: () => ({ done: async () => uploadError }),
    usable: () => true,
  };
}

/** Runs `work` with a cpu GatherPackedImages kernel and `layout` in place; removes the kernel after. */
export async function withCpuGather<T>(layout: PackedLayout, work: () => Promise<T>): Promise<T> {
  tf.registerKernel({ kernelName: GATHER_PACKED_IMAGES, backendName: 'cpu', kernelFunc: gatherOnCpu as tf.KernelFunc });
  setPackedLayout('cpu', layout);
  try {
    return await work();
  } finally {
    tf.unregisterKernel(GATHER_PACKED_IMAGES, 'cpu');
  }
}
