/**
 * A batch gathered from a split packed on WebGL (GatherPackedImages, 3 bytes a float32 word) against makeBatch on the
 * cpu backend: the very same floats, bit for bit (e2e/gpuGather.ts). In 4 chunks and in 1; and the tensor count
 * stays flat over batches from a split that stays on the GPU.
 */
import * as tf from '@tensorflow/tfjs';
import { registerWebglImageKernels } from '../../src/backends/webglGatherImages';
import { ResidentImages } from '../../src/worker/residentImages';
import { cpuPathFloats, everyByteSet, GATHER_PICKS, unequalGathered } from '../gpuGather';

export interface GatherResult {
  /** For each layout tried: its chunks and how many floats differ from the cpu path's. */
  layouts: { chunks: number; unequal: number; floats: number }[];
  /** Tensors alive after each of three batches from the resident split (all the same: nothing leaks). */
  tensorsAfterBatches: number[];
}

export async function checkGather(): Promise<GatherResult> {
  registerWebglImageKernels();
  const set = everyByteSet();
  const expected = await cpuPathFloats(set, GATHER_PICKS, 'webgl');
  const layouts: GatherResult['layouts'] = [];
  // 81 bytes an image, 27 words of 3: chunks of 4 images (432 GPU bytes), 4 of them (4, 4, 4, 1); then one chunk.
  for (const limitBytes of [4 * 4 * 27, undefined])
    layouts.push({ chunks: limitBytes ? 4 : 1, ...(await unequalGathered(set, GATHER_PICKS, expected, limitBytes)) });
  const { images } = await ResidentImages.upload(set);
  const tensorsAfterBatches: number[] = [];
  for (let i = 0; i < 3; i++) {
    const batch = images!.batch(GATHER_PICKS.slice(i), 2);
    await batch.xs.data();
    tf.dispose([batch.xs, batch.ys]);
    tensorsAfterBatches.push(tf.memory().numTensors);
  }
  images!.dispose();
  return { layouts, tensorsAfterBatches };
}
