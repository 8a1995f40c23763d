/**
 * A split's images held on the GPU for a whole run: uploaded once, 4 pixels an int32 word (packedImages.ts), in as
 * few chunks as the GPU's buffer limits allow; each batch's images gathered, unpacked, cast and scaled there by
 * index (GatherPackedImages), so a step uploads only its indices and labels. Only where the backend has that kernel
 * (WebGPU): elsewhere, and where the upload fails, batches are made on the CPU as before (batches.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../core/types';
import { messageOf } from '../core/userError';
import { gatherPackedImages, hasGatherPackedImages, MAX_CHUNKS, packImageBytes } from '../backends/packedImages';
import { checkedLabels, labelTensor, PIXEL_SCALE, type Batch } from './batches';

/** What the GPU device says of its buffers (WebGPU's limits; absent elsewhere). */
interface GpuDeviceLike {
  limits?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number };
  pushErrorScope?(filter: 'out-of-memory' | 'validation'): void;
  popErrorScope?(): Promise<{ message: string } | null>;
}
interface UploadingBackend {
  device?: GpuDeviceLike;
  uploadToGPU?(dataId: unknown): void;
}

/** The error a scope caught, if any; a scope that cannot be read (a lost device) counts as a failure. */
async function popScope(device: GpuDeviceLike | undefined): Promise<{ message: string } | null> {
  try {
    return (await device?.popErrorScope?.()) ?? null;
  } catch (error) {
    return { message: messageOf(error) };
  }
}

/** The largest chunk the GPU binds: WebGPU's default limits (128 MiB a binding) where it says nothing. */
export function chunkLimitBytes(device: GpuDeviceLike | undefined): number {
  const binding = device?.limits?.maxStorageBufferBindingSize ?? 128 * 2 ** 20;
  const buffer = device?.limits?.maxBufferSize ?? binding;
  return Math.min(binding, buffer);
}

/** How many images go in a chunk of at most `limitBytes` (whole words), or 0 when not even one fits. */
export function imagesPerChunk(area: number, limitBytes: number): number {
  return Math.floor((Math.floor(limitBytes / 4) * 4) / area);
}

export class ResidentImages {
  private constructor(
    private readonly set: ImageSet,
    private readonly chunks: tf.Tensor1D[],
    private readonly perChunk: number,
  ) {}

  /**
   * The split on the GPU, or null (and why) where the backend cannot gather there or the upload fails:
   * then the caller makes its batches on the CPU. `limitBytes`: the largest chunk (default: what the GPU binds).
   */
  static async upload(set: ImageSet, limitBytes?: number): Promise<{ images: ResidentImages | null; reason: string }> {
    if (!hasGatherPackedImages())
      return { images: null, reason: `${tf.getBackend()} has no GatherPackedImages kernel` };
    const backend = tf.backend() as unknown as UploadingBackend;
    const area = set.size * set.size;
    const limit = limitBytes ?? chunkLimitBytes(backend.device);
    const perChunk = imagesPerChunk(area, limit);
    const count = Math.ceil(set.count / Math.max(1, perChunk));
    if (perChunk < 1 || count > MAX_CHUNKS) {
      return {
        images: null,
        reason: `${set.count} images of ${set.size} px exceed ${MAX_CHUNKS} GPU buffers of ${limit} bytes`,
      };
    }
    const chunks: tf.Tensor1D[] = [];
    const device = backend.device;
    // A buffer the GPU cannot give is no exception in WebGPU: an error scope tells.
    device?.pushErrorScope?.('out-of-memory');
    device?.pushErrorScope?.('validation');
    let failure: string | null = null;
    try {
      for (let first = 0; first < set.count; first += perChunk) {
        const chunk = tf.tensor1d(
          packImageBytes(set.pixels, first, Math.min(perChunk, set.count - first), area),
          'int32',
        );
        chunks.push(chunk);
        // Now, not at the first gather, so that a failure shows here; tfjs drops its CPU copy once uploaded.
        backend.uploadToGPU?.(chunk.dataId);
      }
    } catch (error) {
      failure = messageOf(error);
    }
    const scoped = [await popScope(device), await popScope(device)].find((e) => e);
    failure ??= scoped ? scoped.message : null;
    if (failure !== null) {
      tf.dispose(chunks);
      return { images: null, reason: `the upload failed (${failure})` };
    }
    return { images: new ResidentImages(set, chunks, perChunk), reason: '' };
  }

  /** Whether this holds `set` (the same split's bytes). */
  holds(set: ImageSet): boolean {
    return set === this.set;
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
      };
      return { xs: gatherPackedImages(this.chunks, picks, attrs), ys: labelTensor(labels, numClasses) };
    });
  }

  dispose(): void {
    tf.dispose(this.chunks);
    this.chunks.length = 0;
  }
}
