/**
 * Shared by the WebGPU and WebGL kernel pages: a batch gathered from a split packed on the GPU (GatherPackedImages)
 * against makeBatch on the cpu backend, float for float (Object.is: the very same bits).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../src/core/types';
import { syntheticSet } from '../src/model/testImages.testutil';
import { makeBatch } from '../src/worker/batches';
import { ResidentImages } from '../src/worker/residentImages';

/** 13 images of 9 px (an odd area): every byte value, 0 and 255 among them, at every place in a word. */
export function everyByteSet(): ImageSet {
  const set = syntheticSet(13, 9, 2, 4);
  set.pixels.forEach((_, i) => (set.pixels[i] = (i * 97 + 3) % 256));
  set.pixels.fill(255, 0, 12);
  return set;
}

/** Picks out of order, one twice. */
export const GATHER_PICKS = [12, 0, 5, 5, 7, 3, 11, 8];

/** The floats makeBatch makes of `indices` on the cpu backend; then back on `backend`. */
export async function cpuPathFloats(set: ImageSet, indices: number[], backend: string): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const expected = tf.tidy(() => makeBatch(set, indices, 2).xs.dataSync() as Float32Array);
  await tf.setBackend(backend);
  return expected;
}

/** Uploads `set` (chunks of at most `limitBytes`), gathers `indices`, frees it: how many floats differ from `expected`. */
export async function unequalGathered(
  set: ImageSet,
  indices: number[],
  expected: Float32Array,
  limitBytes?: number,
): Promise<{ unequal: number; floats: number }> {
  const { images, reason } = await ResidentImages.upload(set, limitBytes);
  if (!images) throw new Error(reason);
  const batch = images.batch(indices, 2);
  const gathered = await batch.xs.data();
  tf.dispose([batch.xs, batch.ys]);
  images.dispose();
  const unequal = expected.filter((value, i) => !Object.is(value, gathered[i])).length;
  return { unequal: unequal + Math.abs(gathered.length - expected.length), floats: gathered.length };
}
