/**
 * The Results' acquisition-shift check in the worker: a fixed sample of the evaluated split (test, else validation)
 * scored as it is and under each shift (acquisitionShifts.ts), single-view, with the same out-of-distribution
 * judgement as the test evaluation. The page computes the figures at its threshold (eval/shiftMetrics.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import { ACQUISITION_SHIFTS, shiftSampleIndices, type ShiftCheckScores } from '../core/acquisitionShifts';
import type { ImageSet, OodDetector } from '../core/types';
import { judge, oodFeatureLayers } from '../eval/outOfDistribution';
import { applyAcquisitionShift } from './acquisitionShifts';
import { evaluateInBatches } from './evaluate';

/** The images of `set` at `indices`, as a set of their own (a copy of their bytes). */
export function sampleOf(set: ImageSet, indices: readonly number[]): ImageSet {
  const area = set.size * set.size;
  const pixels = new Uint8Array(indices.length * area);
  indices.forEach((index, i) => pixels.set(set.pixels.subarray(index * area, (index + 1) * area), i * area));
  return {
    size: set.size,
    count: indices.length,
    pixels,
    labels: Uint8Array.from(indices, (index) => set.labels[index]),
  };
}

/** Scores `set`'s sample under every shift with `model`; with `detector`, each shifted image judged too. */
export async function scoreUnderShifts(
  model: tf.LayersModel,
  set: ImageSet,
  split: ShiftCheckScores['split'],
  numClasses: number,
  detector: OodDetector | null,
  batchSize = 32,
): Promise<ShiftCheckScores> {
  const sample = sampleOf(set, shiftSampleIndices(set.count));
  const layers = detector ? oodFeatureLayers(detector) : undefined;
  const shifts: ShiftCheckScores['shifts'] = [];
  for (const shift of ACQUISITION_SHIFTS) {
    const evaluation = await evaluateInBatches(
      model,
      sample,
      numClasses,
      batchSize,
      layers,
      undefined,
      'off',
      (xs, first) => applyAcquisitionShift(xs, shift, first),
    );
    const ood = detector && evaluation.features ? judge(detector, evaluation.features) : null;
    shifts.push({
      shift,
      scores: evaluation.scores,
      unlike: ood ? Uint8Array.from(ood.distances, (d) => (d > ood.threshold ? 1 : 0)) : null,
    });
    // Lets a Stop or another request in between shifts.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return { split, splitCount: set.count, numClasses, labels: sample.labels, shifts };
}
