/**
 * The splits a run holds on the GPU (residentImages.ts), together within one memory budget: the training split
 * uploaded when the run starts, validation too (scored after every epoch), the test split when the final evaluation
 * reaches it. A split that cannot be held (no gather kernel, over its chunk limits, over the budget, an upload the
 * GPU refuses) makes its batches on the CPU, as before; the figures are the same either way.
 */
import type { ImageSet } from '../core/types';
import { makeBatch, type Batch } from './batches';
import { ResidentImages } from './residentImages';

/**
 * GPU memory a run's resident splits may take together: 1 GiB, the GPU memory past which tfjs' WebGL backend (in a
 * worker) warns of a likely leak. The chest X-ray set at 150 px takes 117 MB (WebGPU) to 156 MB (WebGL) for training.
 */
export const RESIDENT_BUDGET_BYTES = 2 ** 30;

export class ResidentSplits {
  /** Each split asked for: its GPU copy, or null (its batches are made on the CPU) and why. */
  private readonly held = new Map<ImageSet, { images: ResidentImages | null; reason: string }>();

  constructor(private readonly budgetBytes = RESIDENT_BUDGET_BYTES) {}

  /** GPU bytes the splits held now take. */
  get bytes(): number {
    let sum = 0;
    for (const { images } of this.held.values()) sum += images?.bytes ?? 0;
    return sum;
  }

  /** Puts `set` on the GPU once (later calls answer the same); null: its batches are made on the CPU. */
  async upload(set: ImageSet): Promise<ResidentImages | null> {
    const known = this.held.get(set);
    if (known) return known.images;
    const tried = await ResidentImages.upload(set, undefined, this.budgetBytes - this.bytes);
    this.held.set(set, tried);
    return tried.images;
  }

  /** Why `set` is not on the GPU ('' where it is, or was never asked for). */
  reason(set: ImageSet): string {
    return this.held.get(set)?.reason ?? '';
  }

  /** A batch of `set`'s images at `indices`: gathered from its GPU copy, or made on the CPU; the very same floats. */
  batch(set: ImageSet, indices: Int32Array | readonly number[], numClasses: number): Batch {
    const images = this.held.get(set)?.images;
    return images ? images.batch(indices, numClasses) : makeBatch(set, indices, numClasses);
  }

  /** Frees `set`'s GPU copy (its later batches, if any, are made on the CPU; a later upload puts it back). */
  release(set: ImageSet): void {
    this.held.get(set)?.images?.dispose();
    this.held.delete(set);
  }

  dispose(): void {
    for (const { images } of this.held.values()) images?.dispose();
    this.held.clear();
  }
}
