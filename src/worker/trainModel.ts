/**
 * A train request's model once its backend is running: built, kept (KeptModel), trained for the run's epochs, then
 * evaluated, with its out-of-distribution detector attached, unless new data superseded the run.
 */
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../model/models';
import { modelFilesOf } from '../model/checkpoint';
import type { EnsembleRun, ImageSet, Splits, TrainSettings } from '../core/types';
import type { ResumeFrom, TrainerReplies, TrainProgress } from './protocol';
import { FRESH_START, trainEpochs, type RunContext, type RunControl } from './trainingRun';
import { evaluateFinal } from './finalEvaluation';
import { ResidentSplits } from './residentSplits';
import { resumeStart } from './resumeStart';
import type { KeptModel } from './keptModel';
import { attachDetector } from './ood';
import { makeBatch } from './batches';
import { disposeSnapshot, stackMembers, type MemberWeights } from '../model/ensemble';
import { snapshotPlan } from '../core/ensemble';
import { snapshotsOfFiles } from '../model/snapshotFiles';
import { snapshotsTakenBy } from '../model/learningRate';
import { UserError } from '../core/userError';

/** What a run needs of the Trainer. */
export interface TrainModelDeps {
  /** Where the model is kept between requests. */
  kept: KeptModel;
  /** The optimizer's epsilon on the run's backend. */
  epsilon: number;
  /** Reports the run's progress to the page, under the train request's id. */
  progress: (progress: TrainProgress) => void;
  /** Milliseconds, for images/s. */
  now: () => number;
  /** How a paused run waits before it looks at its control again (RunContext.heldWait). */
  heldWait: (() => Promise<void>) | undefined;
}

export async function trainModel(
  control: RunControl,
  settings: TrainSettings,
  data: Splits,
  backendName: string,
  resume: ResumeFrom | null,
  { kept, epsilon, progress, now, heldWait }: TrainModelDeps,
): Promise<TrainerReplies['train']> {
  // Fewer members than asked (or one model) where the classes or the epochs do not allow them: the page says so.
  const plan = snapshotPlan(settings.snapshots, (resume?.epochsDone ?? 0) + settings.epochs, data.classNames.length);
  settings = { ...settings, snapshots: plan.members };
  const options = {
    imageSize: settings.imageSize,
    numClasses: data.classNames.length,
    learningRate: settings.learningRate,
    seed: settings.seed,
    epsilon,
    intensityNormalisation: settings.intensityNormalisation,
  };
  const model = buildModel(settings.model, options);
  kept.keep(model, backendName, 0);
  const start = resume ? await resumeStart(model, resume) : FRESH_START;
  // The run's splits held on the GPU (where they fit) from its first batch to its final evaluation.
  const images = new ResidentSplits();
  const snapshots: MemberWeights[] = [];
  try {
    // A resumed snapshot-ensemble run goes on with the snapshots its finished cycles took.
    if (resume && settings.snapshots > 1) snapshots.push(...resumedSnapshots(model, settings, resume));
    const context = {
      model,
      data,
      settings,
      control,
      progress,
      now,
      heldWait,
      start,
      images,
      snapshots,
    };
    // The stacked model is kept in the trained one's place (which keep frees), once both are timed.
    const keepEnsemble = async (
      members: MemberWeights[],
    ): Promise<{ model: tf.LayersModel; ensemble: EnsembleRun }> => {
      const stacked = stackMembers(settings.model, options, members);
      const predictTimeRatio = await predictTimeRatioOf(stacked, model, data.validation, now);
      kept.keep(stacked, backendName, 0);
      return { model: stacked, ensemble: { kind: 'snapshot', members: members.length, predictTimeRatio } };
    };
    return await trainAndEvaluate(kept, context, keepEnsemble);
  } finally {
    images.dispose();
    snapshots.forEach(disposeSnapshot);
  }
}

/**
 * The snapshots a resumed snapshot-ensemble run took before its checkpoint: as many as its cycles that ended by then
 * (the cycles span the run's epochs, those done and those to come), read and checked against the model.
 */
function resumedSnapshots(model: tf.LayersModel, settings: TrainSettings, resume: ResumeFrom): MemberWeights[] {
  const taken = snapshotsTakenBy(resume.epochsDone, resume.epochsDone + settings.epochs, settings.snapshots);
  if (taken === 0) return [];
  if (!resume.snapshots)
    throw new UserError(
      `The saved run has no snapshots, but its ${taken} finished cycle${taken === 1 ? '' : 's'} took some: ` +
        'train the snapshot ensemble again from the start.',
    );
  return snapshotsOfFiles(model, resume.snapshots, taken);
}

async function trainAndEvaluate(
  kept: KeptModel,
  context: RunContext,
  keepEnsemble: (members: MemberWeights[]) => Promise<{ model: tf.LayersModel; ensemble: EnsembleRun }>,
): Promise<TrainerReplies['train']> {
  const { settings, control } = context;
  const outcome = await trainEpochs(context);
  // A snapshot ensemble: its members (the snapshots taken, fewer after a Stop) replace the trained model, which goes.
  const members = context.snapshots ?? [];
  let ensemble: EnsembleRun | null = null;
  if (members.length >= 2 && !control.superseded) ({ model: context.model, ensemble } = await keepEnsemble(members));
  const { model } = context;
  // The epochs the kept weights were trained for: up to the best epoch when its weights were restored.
  kept.epochs = outcome.restoredBest && outcome.bestEpoch !== null ? outcome.bestEpoch + 1 : outcome.epochsDone;
  if (control.superseded) {
    // The page has moved on to another dataset: evaluating on the old one would only mislead.
    kept.discard();
    return { ...outcome, reason: 'stopped', restoredBest: false, test: null, model: null, scores: null };
  }
  const {
    test,
    kept: evaluated,
    detector,
  } = await evaluateFinal(context, settings.batchSize, {
    fit: settings.ood,
  });
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
async function predictTimeRatioOf(
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
