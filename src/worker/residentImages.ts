/**
 * A split's images held on the GPU for a whole run: uploaded once, several pixels an int32 word (packedImages.ts:
 * 4 on WebGPU, 3 on WebGL), in as few chunks as the GPU's limits allow; each batch's images gathered, unpacked, cast
 * and scaled there by index (GatherPackedImages), so a step uploads only its indices and labels. Only where the
 * backend has that kernel and packs exactly (WebGPU; WebGL 2 with float32 textures): elsewhere, and where the
 * upload fails, batches are made on the CPU as before (batches.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../core/types';
import { messageOf } from '../core/userError';
import {
  gatherPackedImages,
  GPU_BYTES_A_WORD,
  MAX_CHUNKS,
  packedLayout,
  packImageBytes,
} from '../backends/packedImages';
import { checkedLabels, labelTensor, PIXEL_SCALE, type Batch } from './batches';

interface UploadingBackend {
  uploadToGPU?(dataId: unknown): void;
}

/** How many images of `area` bytes go in a chunk of at most `limitBytes` on the GPU, or 0 when not even one fits. */
export function imagesPerChunk(area: number, limitBytes: number, bytesPerWord: number): number {
  return Math.floor((Math.floor(limitBytes / GPU_BYTES_A_WORD) * bytesPerWord) / area);
}

/** GPU bytes the packed split takes (its chunks' words). */
export function residentBytes(set: ImageSet, perChunk: number, bytesPerWord: number): number {
  const area = set.size * set.size;
  const full = Math.floor(set.count / perChunk);
  const rest = set.count - full * perChunk;
  const words = full * Math.ceil((perChunk * area) / bytesPerWord) + Math.ceil((rest * area) / bytesPerWord);
  return words * GPU_BYTES_A_WORD;
}

export class ResidentImages {
  private constructor(
    private readonly set: ImageSet,
    private readonly chunks: tf.Tensor1D[],
    private readonly perChunk: number,
    private readonly bytesPerWord: number,
    /** GPU bytes its chunks take. */
    readonly bytes: number,
  ) {}

  /**
   * The split on the GPU, or null (and why) where the backend cannot gather there or the upload fails:
   * then the caller makes its batches on the CPU. `limitBytes`: the largest chunk (default: what the GPU binds);
   * `budgetBytes`: the most GPU memory the split may take (default: no more than MAX_CHUNKS chunks).
   */
  static async upload(
    set: ImageSet,
    limitBytes?: number,
    budgetBytes = Infinity,
  ): Promise<{ images: ResidentImages | null; reason: string }> {
    const layout = packedLayout();
    if (!layout) return { images: null, reason: `${tf.getBackend()} has no exact GatherPackedImages kernel` };
    if (set.count < 1) return { images: null, reason: 'the split is empty' };
    const backend = tf.backend() as unknown as UploadingBackend;
    const area = set.size * set.size;
    const limit = limitBytes ?? layout.chunkLimitBytes(backend);
    const perChunk = imagesPerChunk(area, limit, layout.bytesPerWord);
    const count = Math.ceil(set.count / Math.max(1, perChunk));
    if (perChunk < 1 || count > MAX_CHUNKS) {
      return {
        images: null,
        reason: `${set.count} images of ${set.size} px exceed ${MAX_CHUNKS} GPU buffers of ${limit} bytes`,
      };
    }
    const bytes = residentBytes(set, perChunk, layout.bytesPerWord);
    if (bytes > budgetBytes)
      return { images: null, reason: `${bytes} bytes exceed the ${budgetBytes} left for images on the GPU` };
    const chunks: tf.Tensor1D[] = [];
    const watch = layout.watchUpload(backend);
    let failure: string | null = null;
    try {
      for (let first = 0; first < set.count; first += perChunk) {
        const words = packImageBytes(
          set.pixels,
          first,
          Math.min(perChunk, set.count - first),
          area,
          layout.bytesPerWord,
        );
        const chunk = tf.tensor1d(words, 'int32');
        chunks.push(chunk);
        // Now, not at the first gather, so that a failure shows here; tfjs drops its CPU copy once uploaded.
        backend.uploadToGPU?.(chunk.dataId);
      }
    } catch (error) {
      failure = messageOf(error);
    }
    failure ??= await watch.done();
    if (failure !== null) {
      tf.dispose(chunks);
      return { images: null, reason: `the upload failed (${failure})` };
    }
    return { images: new ResidentImages(set, chunks, perChunk, layout.bytesPerWord, bytes), reason: '' };
  }

  /** The batch of the images at `indices`, as makeBatch makes it (the same floats), from the GPU's copy. */
  batch(indices: Int32Array | readonly number[], numClasses: number): Batch {
    const labels = checkedLabels(this.set, indices, numClasses);
    return tf.tidy(() => {
      const picks = tf.tensor1d(Int32Array.from(indices), 'int32');
      const attrs = {
        size: this.set.size,
        imagesPerChunk: this.perChunk,
        chunks: this.chunks.length,
        scale: PIXEL_SCALE,
        bytesPerWord: this.bytesPerWord,
      };
      return { xs: gatherPackedImages(this.chunks, picks, attrs), ys: labelTensor(labels, numClasses) };
    });
  }

  dispose(): void {
    tf.dispose(this.chunks);
    this.chunks.length = 0;
  }
}
