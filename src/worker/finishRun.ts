/**
 * The end of a run once its model is trained (a single model, or an ensemble stacked as one): the final evaluation,
 * the out-of-distribution detector fitted and attached, and the train reply; and how much slower an ensemble predicts.
 */
import * as tf from '@tensorflow/tfjs';
import { modelFilesOf } from '../model/checkpoint';
import type { EnsembleRun, ImageSet, TrainingOutcome } from '../core/types';
import type { TrainerReplies } from './protocol';
import type { RunContext } from './trainingRun';
import { evaluateFinal } from './finalEvaluation';
import { attachDetector } from './ood';
import { makeBatch } from './batches';
import type { KeptModel } from './keptModel';

/** Evaluates `context.model` (the kept one) unless the run was superseded, and makes the run's reply. */
export async function finishRun(
  kept: KeptModel,
  context: RunContext,
  outcome: TrainingOutcome,
  ensemble: EnsembleRun | null,
): Promise<TrainerReplies['train']> {
  const { settings, control, model } = context;
  // The epochs the kept weights were trained for: up to the best epoch when its weights were restored.
  kept.epochs = outcome.restoredBest && outcome.bestEpoch !== null ? outcome.bestEpoch + 1 : outcome.epochsDone;
  if (control.superseded) {
    // The page has moved on to another dataset: evaluating on the old one would only mislead.
    kept.discard();
    return { ...outcome, reason: 'stopped', restoredBest: false, test: null, model: null, scores: null };
  }
  const { test, kept: evaluated, detector } = await evaluateFinal(context, settings.batchSize, { fit: settings.ood });
  kept.evaluated = evaluated;
  // In model.json too: what is stored, restored and downloaded judges images as this run does.
  attachDetector(model, detector);
  kept.ood = detector;
  const files = await modelFilesOf(model, false);
  return {
    ...outcome,
    reason: control.stopRequested ? 'stopped' : outcome.reason,
    test,
    model: files,
    scores: evaluated.scores,
    ensemble,
  };
}

/**
 * How much longer the ensemble takes to predict than one model: both on up to 32 validation images, on the run's
 * backend, best of 3 after a warm-up (the first call compiles kernels on a GPU).
 */
export async function predictTimeRatioOf(
  ensemble: tf.LayersModel,
  single: tf.LayersModel,
  images: ImageSet,
  now: () => number,
): Promise<number | null> {
  const count = Math.min(32, images.count);
  if (count === 0) return null;
  const { xs, ys } = makeBatch(
    images,
    Array.from({ length: count }, (_, i) => i),
    2,
  );
  ys.dispose();
  const timeOf = async (model: tf.LayersModel): Promise<number> => {
    let best = Infinity;
    for (let i = 0; i < 4; i++) {
      const start = now();
      const out = model.predict(xs) as tf.Tensor;
      await out.data();
      out.dispose();
      if (i > 0) best = Math.min(best, now() - start);
    }
    return best;
  };
  try {
    const one = await timeOf(single);
    const stacked = await timeOf(ensemble);
    return one > 0 ? stacked / one : null;
  } finally {
    xs.dispose();
  }
}
