/**
 * A split's 8-bit pixels kept on the GPU as int32 words, several pixels a word (tfjs has no uint8 dtype: one int32 a
 * pixel would take 4 times the memory), and the op that gathers a batch of them by index, unpacks, casts and scales
 * them in one kernel (GatherPackedImages). Each GPU backend packs as its storage allows (its PackedLayout):
 * - WebGPU (webgpuKernels/gatherImages.ts): 4 bytes a word, int32 storage buffers;
 * - WebGL (webglGatherImages.ts): 3 bytes a word, since WebGL keeps int32 tensors in float32 textures, which hold
 *   whole numbers exactly only below 2^24.
 * Byte k of a word is bits 8k..8k+7 (written out here, not read through a typed-array view, so any platform packs
 * alike). Every chunk starts at a word: image i of a chunk starts at byte i·size² of it.
 */
import * as tf from '@tensorflow/tfjs';

export const GATHER_PACKED_IMAGES = 'GatherPackedImages';

/** The most chunks one gather binds (each a storage buffer or texture; WebGPU guarantees 8 a shader). */
export const MAX_CHUNKS = 4;

/** GPU bytes a packed word takes on either backend (an int32 buffer element, an R32F texel). */
export const GPU_BYTES_A_WORD = 4;

export interface GatherPackedImagesAttrs {
  /** Images are size × size, one channel. */
  size: number;
  /** Images in each chunk but maybe the last: image i is in chunk ⌊i / imagesPerChunk⌋. */
  imagesPerChunk: number;
  chunks: number;
  /** Each pixel byte is multiplied by this (float32), as the CPU path's tf.mul does. */
  scale: number;
  /** Pixels a word: the backend's PackedLayout. */
  bytesPerWord: number;
}

/** What a GPU refused of an upload: null when it took it all. */
export interface UploadWatch {
  done(): Promise<string | null>;
}

/** How a backend holds packed images. */
export interface PackedLayout {
  /** Pixels a word: 4 where words are int32, 3 where they are float32 (exact below 2^24). */
  bytesPerWord: number;
  /** The largest chunk, in GPU bytes (GPU_BYTES_A_WORD a word), the backend binds. */
  chunkLimitBytes(backend: unknown): number;
  /** Starts watching for errors the GPU reports of an upload (out of memory, validation). */
  watchUpload(backend: unknown): UploadWatch;
  /** Whether packed words are exact on this backend now (a GPU whose WebGL textures are 16-bit: no). */
  usable(): boolean;
}

const layouts = new Map<string, PackedLayout>();

/** Says how `backendName` packs; its GatherPackedImages kernel is registered by its own file. */
export function setPackedLayout(backendName: string, layout: PackedLayout): void {
  layouts.set(backendName, layout);
}

/** The current backend's layout where it has a GatherPackedImages kernel that is exact here; else null. */
export function packedLayout(): PackedLayout | null {
  const backend = tf.getBackend();
  const layout = layouts.get(backend);
  if (!layout || tf.getKernel(GATHER_PACKED_IMAGES, backend) === undefined) return null;
  return layout.usable() ? layout : null;
}

/** Images [first, first + count) of `pixels` (size² bytes each, one after the other), `bytesPerWord` bytes a word. */
export function packImageBytes(
  pixels: Uint8Array,
  first: number,
  count: number,
  area: number,
  bytesPerWord = 4,
): Int32Array {
  checkBytesPerWord(bytesPerWord);
  const bytes = pixels.subarray(first * area, (first + count) * area);
  if (bytes.length !== count * area)
    throw new Error(`Images ${first}..${first + count - 1} are not all in ${pixels.length} bytes.`);
  const words = new Int32Array(Math.ceil(bytes.length / bytesPerWord));
  if (bytesPerWord === 4) {
    for (let i = 0; i < bytes.length; i++) words[i >> 2] |= bytes[i] << ((i & 3) * 8);
    return words;
  }
  for (let i = 0, word = 0, shift = 0; i < bytes.length; i++) {
    words[word] |= bytes[i] << shift;
    shift += 8;
    if (shift === bytesPerWord * 8) [word, shift] = [word + 1, 0];
  }
  return words;
}

/** The byte at `offset` of packed words (the kernels' unpacking, for tests and the CPU). */
export function unpackByte(words: Int32Array, offset: number, bytesPerWord = 4): number {
  const word = Math.floor(offset / bytesPerWord);
  return (words[word] >> ((offset - word * bytesPerWord) * 8)) & 255;
}

function checkBytesPerWord(bytesPerWord: number): void {
  if (!Number.isInteger(bytesPerWord) || bytesPerWord < 1 || bytesPerWord > 4)
    throw new Error(`A word packs 1 to 4 bytes (got ${bytesPerWord}).`);
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
