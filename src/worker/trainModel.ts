/**
 * A train request's model once its backend is running: built, kept (KeptModel), trained for the run's epochs, then
 * evaluated, with its out-of-distribution detector attached, unless new data superseded the run.
 */
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../model/models';
import type { EnsembleRun, Splits, TrainSettings } from '../core/types';
import type { ResumeFrom, TrainerReplies } from './protocol';
import { FRESH_START, trainEpochs, type RunContext, type RunControl } from './trainingRun';
import { finishRun, predictTimeRatioOf } from './finishRun';
import { ResidentSplits } from './residentSplits';
import { resumeStart } from './resumeStart';
import type { KeptModel } from './keptModel';
import { disposeSnapshot, stackMembers, type MemberWeights } from '../model/ensemble';
import { ensembleConflict, seedPlan, snapshotPlan } from '../core/ensemble';
import { trainSeedEnsemble, type RunDeps } from './seedEnsemble';
import { snapshotsOfFiles } from '../model/snapshotFiles';
import { snapshotsTakenBy } from '../model/learningRate';
import { UserError } from '../core/userError';

/** What a run needs of the Trainer. */
export interface TrainModelDeps extends RunDeps {
  /** The optimizer's epsilon on the run's backend. */
  epsilon: number;
}

export async function trainModel(
  control: RunControl,
  settings: TrainSettings,
  data: Splits,
  backendName: string,
  resume: ResumeFrom | null,
  { kept, epsilon, progress, now, heldWait }: TrainModelDeps,
): Promise<TrainerReplies['train']> {
  const conflict = ensembleConflict(settings);
  if (conflict) throw new UserError(conflict);
  // Fewer members than asked (or one model) where the classes or the epochs do not allow them: the page says so.
  const plan = snapshotPlan(settings.snapshots, (resume?.epochsDone ?? 0) + settings.epochs, data.classNames.length);
  const seeds = seedPlan(settings.seedModels ?? 1, data.classNames.length);
  settings = { ...settings, snapshots: plan.members, seedModels: seeds.members };
  const options = {
    imageSize: settings.imageSize,
    numClasses: data.classNames.length,
    learningRate: settings.learningRate,
    seed: settings.seed,
    epsilon,
    intensityNormalisation: settings.intensityNormalisation,
  };
  if (settings.seedModels > 1)
    return trainSeedEnsemble(control, settings, data, resume, options, { kept, backendName, progress, now, heldWait });
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
  const { control } = context;
  const outcome = await trainEpochs(context);
  // A snapshot ensemble: its members (the snapshots taken, fewer after a Stop) replace the trained model, which goes.
  const members = context.snapshots ?? [];
  let ensemble: EnsembleRun | null = null;
  if (members.length >= 2 && !control.superseded) ({ model: context.model, ensemble } = await keepEnsemble(members));
  return finishRun(kept, context, outcome, ensemble);
}
