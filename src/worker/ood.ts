/**
 * The out-of-distribution detector in the worker: fitted on the training images' features after a run, kept in
 * the model's own model.json (userDefinedMetadata), read back (and checked) when a model is restored or loaded,
 * and applied to every set the model scores. The arithmetic is eval/outOfDistribution.ts.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ImageSet, OodDetector, OodJudgement } from '../core/types';
import { UserError } from '../core/userError';
import { fitOodDetector, judge } from '../eval/outOfDistribution';
import { checkOodDetector } from '../eval/oodDetectorCheck';
import { featureLayerOf, featureSizeOf } from '../model/features';
import { evaluateInBatches, type Evaluation } from './evaluate';
import type { ResidentSplits } from './residentSplits';

/** The key of model.json's userDefinedMetadata (and of metadata.json) that holds the detector. */
export const OOD_KEY = 'outOfDistribution';

/** What the final evaluation does about the detector: fit a new one (after training), or use the model's. */
export type OodPlan = { fit: true } | { detector: OodDetector | null };

/** The feature layer the plan reads, or null when there is nothing to judge with. */
function featuresFor(model: tf.LayersModel, plan: OodPlan): { layer: string; size: number } | null {
  if ('fit' in plan) {
    const found = featureLayerOf(model);
    return found ? { layer: found.name, size: found.size } : null;
  }
  // TODO(feature ensemble): every layer the detector reads.
  const detector = plan.detector;
  return detector?.method === 'mahalanobis-tied-covariance'
    ? { layer: detector.featureLayer, size: detector.precision.length }
    : null;
}

/** A scored split with its judgement. */
export interface JudgedEvaluation {
  evaluation: Evaluation;
  ood: OodJudgement | undefined;
}

/**
 * Scores validation (and the training images first, when fitting), fits or takes the detector, and returns a
 * function that scores and judges any further set (test) the same way; batches from `images` where it holds them.
 */
export async function judgedValidation(
  model: tf.LayersModel,
  data: { train: ImageSet; validation: ImageSet; classNames: string[] },
  batchSize: number,
  plan: OodPlan,
  guard: <T>(work: Promise<T>) => Promise<T>,
  images?: ResidentSplits,
): Promise<{
  validation: JudgedEvaluation;
  detector: OodDetector | null;
  judgeSet: (set: ImageSet) => Promise<JudgedEvaluation>;
}> {
  const numClasses = data.classNames.length;
  const features = featuresFor(model, plan);
  let detector = 'fit' in plan ? null : plan.detector;
  let validationOod: OodJudgement | undefined;
  let validation: Evaluation;
  if ('fit' in plan && features) {
    const train = await guard(evaluateInBatches(model, data.train, numClasses, batchSize, features, images));
    validation = await guard(evaluateInBatches(model, data.validation, numClasses, batchSize, features, images));
    const fitted = fitOodDetector(
      { features: train.features!, labels: data.train.labels.subarray(0, data.train.count) },
      validation.features!,
      { featureSize: features.size, numClasses, featureLayer: features.layer },
    );
    detector = fitted.detector;
    validationOod = fitted.validation;
  } else {
    validation = await guard(
      evaluateInBatches(model, data.validation, numClasses, batchSize, features ?? undefined, images),
    );
    if (detector && validation.features) validationOod = judge(detector, validation.features);
  }
  const judgeSet = async (set: ImageSet): Promise<JudgedEvaluation> => {
    const evaluation = await guard(
      evaluateInBatches(model, set, numClasses, batchSize, detector ? (features ?? undefined) : undefined, images),
    );
    return { evaluation, ood: detector && evaluation.features ? judge(detector, evaluation.features) : undefined };
  };
  return { validation: { evaluation: validation, ood: validationOod }, detector, judgeSet };
}

/** Writes the detector into the model's userDefinedMetadata, so its files (stored, downloaded) carry it. */
export function attachDetector(model: tf.LayersModel, detector: OodDetector | null): void {
  const others = { ...((model.getUserDefinedMetadata() as Record<string, unknown> | undefined) ?? {}) };
  delete others[OOD_KEY];
  model.setUserDefinedMetadata(detector ? { ...others, [OOD_KEY]: detector } : others);
}

/** The detector a restored or loaded model carries, checked against the model; null when it carries none. */
export function detectorOf(model: tf.LayersModel, numClasses: number): OodDetector | null {
  const raw = (model.getUserDefinedMetadata() as Record<string, unknown> | undefined)?.[OOD_KEY];
  if (raw === undefined || raw === null) return null;
  const layer = typeof raw === 'object' ? (raw as { featureLayer?: unknown }).featureLayer : undefined;
  const size = typeof layer === 'string' ? featureSizeOf(model, layer) : null;
  if (size === null) {
    throw new UserError(
      `The model's out-of-distribution statistics name a feature layer (${String(layer).slice(0, 60)}) this model does not have as a flat layer.`,
    );
  }
  return checkOodDetector(raw, { featureSize: size, numClasses });
}
