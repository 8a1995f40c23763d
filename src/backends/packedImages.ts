/**
 * A split's 8-bit pixels kept on the GPU as int32 words, 4 pixels a word (tfjs has no uint8 dtype: one int32 a
 * pixel would take 4 times the memory), and the op that gathers a batch of them by index, unpacks, casts and scales
 * them in one kernel (GatherPackedImages; the WebGPU program is webgpuKernels/gatherImages.ts). Byte k of a word is
 * bits 8k..8k+7 (little-endian, written out here, not read through a typed-array view, so any platform packs alike).
 */
import * as tf from '@tensorflow/tfjs';

export const GATHER_PACKED_IMAGES = 'GatherPackedImages';

/** The most chunks one gather binds (each a storage buffer; WebGPU guarantees 8 a shader, the batch's picks are one). */
export const MAX_CHUNKS = 4;

export interface GatherPackedImagesAttrs {
  /** Images are size × size, one channel. */
  size: number;
  /** Images in each chunk but maybe the last: image i is in chunk ⌊i / imagesPerChunk⌋. */
  imagesPerChunk: number;
  chunks: number;
  /** Each pixel byte is multiplied by this (float32), as the CPU path's tf.mul does. */
  scale: number;
}

/** Images [first, first + count) of `pixels` (size² bytes each, one after the other), 4 bytes a word. */
export function packImageBytes(pixels: Uint8Array, first: number, count: number, area: number): Int32Array {
  const bytes = pixels.subarray(first * area, (first + count) * area);
  if (bytes.length !== count * area)
    throw new Error(`Images ${first}..${first + count - 1} are not all in ${pixels.length} bytes.`);
  const words = new Int32Array(Math.ceil(bytes.length / 4));
  for (let i = 0; i < bytes.length; i++) words[i >> 2] |= bytes[i] << ((i & 3) * 8);
  return words;
}

/** The byte at `offset` of packed words (the kernel's unpacking, for tests and the CPU). */
export function unpackByte(words: Int32Array, offset: number): number {
  return (words[offset >> 2] >> ((offset & 3) * 8)) & 255;
}

/** Whether the current backend has a GatherPackedImages kernel (ours on WebGPU; none on the CPU backends). */
export function hasGatherPackedImages(): boolean {
  return tf.getKernel(GATHER_PACKED_IMAGES, tf.getBackend()) !== undefined;
}

/** [picks.length, size, size, 1] float32: the images at `picks` (int32 indices into the whole split), scaled. */
export function gatherPackedImages(
  chunks: readonly tf.Tensor1D[],
  picks: tf.Tensor1D,
  attrs: GatherPackedImagesAttrs,
): tf.Tensor4D {
  if (chunks.length !== attrs.chunks || chunks.length < 1 || chunks.length > MAX_CHUNKS) {
    throw new Error(`A gather binds 1 to ${MAX_CHUNKS} chunks (got ${chunks.length}).`);
  }
  const inputs: tf.NamedTensorMap = { picks };
  chunks.forEach((chunk, i) => (inputs[`chunk${i}`] = chunk));
  return tf.engine().runKernel(GATHER_PACKED_IMAGES, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
