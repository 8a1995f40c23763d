/**
 * Shared by the WebGPU and WebGL kernel pages: a batch gathered from a split packed on the GPU (GatherPackedImages)
 * against makeBatch on the cpu backend, float for float (Object.is: the very same bits); and a model's evaluation
 * from such batches against CPU batches on the same GPU backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../src/core/types';
import { syntheticSet } from '../src/model/testImages.testutil';
import { makeBatch } from '../src/worker/batches';
import { ResidentImages } from '../src/worker/residentImages';
import { relativeDifference } from '../src/backends/gradientCheck';
import { buildModel } from '../src/model/models';
import { evaluateInBatches, type Evaluation } from '../src/worker/evaluate';
import { ResidentSplits } from '../src/worker/residentSplits';

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

export interface EvaluationMatch {
  /** Scores (and features) that differ, as a count, between CPU batches and GPU-resident ones at the same batch. */
  unequal: number;
  /** Whether loss and accuracy are the very same numbers. */
  sameMetrics: boolean;
  /** Scores' largest relative difference (gradientCheck's measure) in evaluation batches of 13 and 64 images. */
  largerBatches: number;
  /** Whether loss and accuracy in those larger batches are the very same numbers. */
  sameMetricsInLargerBatches: boolean;
  /** GPU bytes the resident split took (0: it fell back, and the comparison would prove nothing). */
  residentBytes: number;
}

/** On the current GPU backend: a model's evaluation from CPU batches against batches from the resident split. */
export async function evaluationFromResidentImages(): Promise<EvaluationMatch> {
  const set = syntheticSet(13, 32, 2, 7);
  const model = buildModel('batchnorm', { imageSize: 32, numClasses: 2, learningRate: 0.001, seed: 3 });
  const layer = model.layers[model.layers.length - 2];
  const features = [{ name: layer.name, size: (layer.outputShape as number[])[1], pooling: 'none' as const }];
  const cpu = await evaluateInBatches(model, set, 2, 5, features);
  const splits = new ResidentSplits();
  try {
    const ours = await evaluateInBatches(model, set, 2, 5, features, splits);
    const count = (a: Float32Array, b: Float32Array) => a.filter((v, i) => !Object.is(v, b[i])).length;
    const same = (a: Evaluation) => a.loss === cpu.loss && a.accuracy === cpu.accuracy;
    const larger = [await evaluateInBatches(model, set, 2, 13, features, splits)];
    larger.push(await evaluateInBatches(model, set, 2, 64, undefined, splits));
    return {
      unequal: count(ours.scores, cpu.scores) + count(ours.features!, cpu.features!),
      sameMetrics: same(ours),
      largerBatches: Math.max(...larger.map((e) => relativeDifference(e.scores, cpu.scores))),
      sameMetricsInLargerBatches: larger.every(same),
      residentBytes: splits.bytes,
    };
  } finally {
    splits.dispose();
    model.dispose();
  }
}
