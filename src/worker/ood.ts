/**
 * The out-of-distribution detector in the worker: fitted on the training images' features after a run, kept in
 * the model's own model.json (userDefinedMetadata), read back (and checked) when a model is restored or loaded,
 * and applied to every set the model scores: Lee et al.'s feature ensemble over several layers (the default), or the
 * last hidden layer alone. The arithmetic is eval/outOfDistribution.ts and eval/featureEnsemble.ts.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ImageSet, OodDetector, OodFeatureLayer, OodJudgement, OodLayerChoice } from '../core/types';
import { fitFeatureEnsembleDetector } from '../eval/featureEnsemble';
import { fitOodDetector, judge, oodFeatureLayers } from '../eval/outOfDistribution';
import { checkOodDetector } from '../eval/oodDetectorCheck';
import { featureLayerOf, layerSizeOf, OOD_LAYERS, OOD_LAYERS_WITH_DETAIL, oodLayersOf } from '../model/features';
import { evaluateInBatches, type Evaluation } from './evaluate';
import type { ResidentSplits } from './residentSplits';

/** The key of model.json's userDefinedMetadata (and of metadata.json) that holds the detector. */
export const OOD_KEY = 'outOfDistribution';

/**
 * What the final evaluation does about the detector: fit a new one after training (on several layers' features and
 * the image's detail, on the layers alone, or on the last hidden layer alone, as the `Unlike-training detector` setting
 * says), or use the model's.
 */
export type OodPlan = { fit: OodLayerChoice } | { detector: OodDetector | null };

/** The layers the plan reads, in the order of a feature row; null when there is nothing to judge with. */
function featuresFor(model: tf.LayersModel, plan: OodPlan): OodFeatureLayer[] | null {
  if ('fit' in plan) {
    if (plan.fit === 'last') {
      const found = featureLayerOf(model);
      return found ? [{ name: found.name, size: found.size, pooling: 'none' }] : null;
    }
    const layers = oodLayersOf(model, plan.fit === 'detail' ? OOD_LAYERS_WITH_DETAIL : OOD_LAYERS);
    return layers.length > 0 ? layers : null;
  }
  // Either method: a model saved before the feature ensemble still judges with its one layer.
  return plan.detector ? oodFeatureLayers(plan.detector) : null;
}

/** The detector `choice` asks for, fitted on the training images' features (`layers`), its cut set on validation's. */
function fitDetector(
  choice: OodLayerChoice,
  layers: OodFeatureLayer[],
  train: { features: Float32Array; labels: Uint8Array },
  validationFeatures: Float32Array,
  numClasses: number,
): { detector: OodDetector; validation: OodJudgement } {
  // `last`: the one-layer detector models have carried since before the feature ensemble, read as they are.
  if (choice === 'last')
    return fitOodDetector(train, validationFeatures, {
      featureSize: layers[0].size,
      numClasses,
      featureLayer: layers[0].name,
    });
  return fitFeatureEnsembleDetector(train, validationFeatures, { layers, numClasses });
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
    const fitted = fitDetector(
      plan.fit,
      features,
      { features: train.features!, labels: data.train.labels.subarray(0, data.train.count) },
      validation.features!,
      numClasses,
    );
    detector = fitted.detector;
    validationOod = { ...fitted.validation, layers: features.map((l) => l.name) };
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

/** The detector a restored or loaded model carries, checked against the model's layers; null when it carries none. */
export function detectorOf(model: tf.LayersModel, numClasses: number): OodDetector | null {
  const raw = (model.getUserDefinedMetadata() as Record<string, unknown> | undefined)?.[OOD_KEY];
  if (raw === undefined || raw === null) return null;
  return checkOodDetector(raw, { numClasses, layerSize: (name, pooling) => layerSizeOf(model, name, pooling) });
}
