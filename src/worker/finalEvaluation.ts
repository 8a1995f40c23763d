/**
 * A run's final evaluation: the kept model scored on validation and the test split, each image judged like the
 * training images or not, and the page's Results and the worker's kept scores made from them.
 */
import * as tf from '@tensorflow/tfjs';
import { misclassifiedCandidates } from '../eval/misclassified';
import { UserError } from '../core/userError';
import type { OodDetector, TestResult } from '../core/types';
import { gpuLostMessage } from '../core/gpuLost';
import { EvaluatedRun, keptScores, pixelsOf } from './evaluatedRun';
import { judgedValidation, type JudgedEvaluation, type OodPlan } from './ood';
import { ResidentSplits } from './residentSplits';
import { evaluationBatchSize } from './evaluationBatch';
import { guarded, type RunContext } from './trainingRun';

/**
 * Reports evaluating, then scores the kept model on validation and on the test split, and judges each image like
 * the training images or not (ood.ts: after training the detector is fitted here first, on the training images).
 * `test` is what the page's Results show (on validation when there is no test split); `kept` is the worker's copy of
 * both splits' scores, for the page's later `evaluate` requests; `detector` the one fitted or used.
 */
export async function evaluateFinal(
  context: Pick<RunContext, 'model' | 'data' | 'control' | 'progress' | 'images'>,
  batchSize: number,
  ood: OodPlan = { detector: null },
): Promise<{ test: TestResult; kept: EvaluatedRun; detector: OodDetector | null }> {
  const { model, data, control, progress } = context;
  progress({ type: 'evaluating' });
  // The splits on the GPU where they fit (the run's, or held here while it evaluates), in larger batches there.
  const images = context.images ?? new ResidentSplits();
  try {
    const guard = <T>(work: Promise<T>) => guarded(control, work);
    const evaluationBatch = evaluationBatchSize(model, batchSize, tf.getBackend());
    const judged = await judgedValidation(model, data, evaluationBatch, ood, guard, images);
    // The training images are scored no more: their room goes to the test split.
    images.release(data.train);
    const tested = data.test ? await judged.judgeSet(data.test) : null;
    return finalResults(context, judged.validation, tested, judged.detector);
  } finally {
    if (!context.images) images.dispose();
  }
}

/** The page's Results and the worker's kept scores from the scored splits. */
function finalResults(
  { data, control }: Pick<RunContext, 'data' | 'control'>,
  judgedValidation: JudgedEvaluation,
  tested: JudgedEvaluation | null,
  detector: OodDetector | null,
): { test: TestResult; kept: EvaluatedRun; detector: OodDetector | null } {
  const numClasses = data.classNames.length;
  const validation = judgedValidation.evaluation;
  const test = tested?.evaluation ?? null;
  if (control.contextLost) throw new UserError(gpuLostMessage(tf.getBackend()));
  const finalSet = data.test ?? data.validation;
  const result = test ?? validation;
  const resultOod = tested ? tested.ood : judgedValidation.ood;
  const kept = new EvaluatedRun(
    numClasses,
    keptScores(data.validation, validation.scores, judgedValidation.ood),
    data.test && tested ? keptScores(data.test, tested.evaluation.scores, tested.ood) : null,
    finalSet,
  );
  // A copy: the labels' own buffer is transferred to the page, the split keeps its own.
  const labels = finalSet.labels.slice(0, finalSet.count);
  const indices = misclassifiedCandidates({ scores: result.scores, labels, numClasses });
  return {
    test: {
      loss: result.loss,
      accuracy: result.accuracy,
      scores: result.scores,
      labels,
      numClasses,
      gallery: { indices, pixels: pixelsOf(finalSet, indices), size: finalSet.size },
      ...(resultOod ? { ood: resultOod } : {}),
    },
    kept,
    detector,
  };
}
