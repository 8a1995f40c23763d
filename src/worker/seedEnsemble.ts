/**
 * A seed-ensemble run (a deep ensemble, Lakshminarayanan et al. 2017): K members trained one after another, each the
 * whole run a single model would be (its epochs, schedule, early stopping with its best epoch restored), member k
 * initialised and shuffled with seed + 1009 k; stacked at the end into ONE model as the snapshot ensemble is
 * (model/ensemble.ts). The page sees one run of K x E epochs: member k's epoch e is the run's epoch k*E + e, so the
 * curves and the history show each member in its own span (an early-stopped member leaves the rest of its span
 * empty). Each finished member is stored beside the checkpoint (model/snapshotFiles.ts): Resume goes on in the member
 * it was in.
 */
import * as tf from '@tensorflow/tfjs';
import { buildModel, type ModelOptions } from '../model/models';
import { modelFilesOf } from '../model/checkpoint';
import { disposeCnn } from '../model/cnn';
import { disposeSnapshot, snapshotOf, stackMembers, type MemberWeights } from '../model/ensemble';
import { snapshotFilesOf, snapshotsOfFiles, storedSnapshotCount } from '../model/snapshotFiles';
import { seedOfMember } from '../core/ensemble';
import { UserError } from '../core/userError';
import type { EnsembleRun, Splits, TrainingOutcome, TrainSettings } from '../core/types';
import type { ResumeFrom, TrainerReplies, TrainProgress } from './protocol';
import { FRESH_START, shouldEnd, trainEpochs, type RunContext, type RunControl } from './trainingRun';
import { finishRun, predictTimeRatioOf } from './finishRun';
import { ResidentSplits } from './residentSplits';
import { resumeStart } from './resumeStart';
import type { KeptModel } from './keptModel';

/** What a run needs of the Trainer (trainModel.ts adds the optimizer's epsilon). */
export interface RunDeps {
  /** Where the model is kept between requests. */
  kept: KeptModel;
  /** Reports the run's progress to the page, under the train request's id. */
  progress: (progress: TrainProgress) => void;
  /** Milliseconds, for images/s. */
  now: () => number;
  /** How a paused run waits before it looks at its control again (RunContext.heldWait). */
  heldWait: (() => Promise<void>) | undefined;
}

type SeedRunDeps = RunDeps & { backendName: string };

/** Trains `settings.seedModels` members of `settings.epochs` epochs each (resumed where `resume` left off). */
export async function trainSeedEnsemble(
  control: RunControl,
  settings: TrainSettings,
  data: Splits,
  resume: ResumeFrom | null,
  options: ModelOptions,
  deps: SeedRunDeps,
): Promise<TrainerReplies['train']> {
  const { kept, backendName, now } = deps;
  const members = settings.seedModels;
  const span = settings.epochs;
  const batchesPerEpoch = Math.ceil(data.train.count / settings.batchSize);
  const images = new ResidentSplits();
  const finished: MemberWeights[] = [];
  let model: tf.LayersModel | null = null;
  try {
    const resumed = resume ? resumedMembers(buildModel(settings.model, options), settings, resume) : null;
    finished.push(...(resumed?.finished ?? []));
    const first = finished.length;
    // A run resumed with every member finished (cut short while it evaluated) trains nothing more.
    let outcome: TrainingOutcome = {
      reason: 'completed',
      epochsDone: resume?.epochsDone ?? 0,
      bestEpoch: resume?.best?.epoch ?? null,
      restoredBest: false,
    };
    const trainingStart = now();
    let firstMemberMs: number | null = null;
    for (let k = first; k < members && !shouldEnd(control); k++) {
      const memberStart = now();
      const seed = seedOfMember(settings.seed, k);
      model = buildModel(settings.model, { ...options, seed });
      // The previous member's model goes (its weights are in `finished`).
      kept.keep(model, backendName, 0);
      const epochsDone = k === first && resume && resumed ? resumed.epochsDoneInMember : 0;
      const start = epochsDone > 0 && resume ? await resumeStart(model, memberResume(resume, k * span)) : FRESH_START;
      const context: RunContext = {
        model,
        data,
        settings: { ...settings, seed, seedModels: 1, epochs: span - start.epochsDone },
        control,
        progress: memberProgress(deps.progress, k * span, members * span, members, batchesPerEpoch),
        now,
        heldWait: deps.heldWait,
        start,
        images,
      };
      const result = await trainEpochs(context);
      outcome = inRunEpochs(result, k * span);
      if (control.superseded) break;
      // Stopped within its epochs: not a finished member.
      if (result.reason !== 'early-stopped' && result.epochsDone < span) break;
      finished.push(snapshotOf(model));
      if (k === 0 && start.epochsDone === 0) firstMemberMs = now() - memberStart;
      // The finished members beside a checkpoint of this one: a reload goes on with the next member.
      const files = await modelFilesOf(model, true);
      const stored = await snapshotFilesOf(finished);
      deps.progress({ type: 'checkpoint', epoch: k * span + result.epochsDone - 1, files, snapshots: stored });
    }
    const trainingMs = now() - trainingStart;
    const context: RunContext = {
      model: model ?? buildModel(settings.model, options),
      data,
      settings,
      control,
      progress: deps.progress,
      now,
      start: FRESH_START,
      images,
    };
    if (!model) kept.keep(context.model, backendName, 0);
    let ensemble: EnsembleRun | null = null;
    if (finished.length >= 2 && !control.superseded) {
      const stacked = stackMembers(settings.model, options, finished);
      setWeightsOf(context.model, finished[0]);
      const predictTimeRatio = await predictTimeRatioOf(stacked, context.model, data.validation, now);
      kept.keep(stacked, backendName, 0);
      context.model = stacked;
      const trainingTimeRatio = firstMemberMs !== null && firstMemberMs > 0 ? trainingMs / firstMemberMs : null;
      ensemble = { kind: 'seeds', members: finished.length, predictTimeRatio, trainingTimeRatio };
    } else if (finished.length === 1) {
      // One finished member (a Stop in the second): that whole run is the model, not the part-trained one.
      setWeightsOf(context.model, finished[0]);
    }
    return await finishRun(kept, context, outcome, ensemble);
  } finally {
    images.dispose();
    finished.forEach(disposeSnapshot);
  }
}

/** A member's outcome in the run's epochs (member k's epoch e is the run's k*E + e). */
function inRunEpochs(outcome: TrainingOutcome, offset: number): TrainingOutcome {
  return {
    ...outcome,
    epochsDone: offset + outcome.epochsDone,
    bestEpoch: outcome.bestEpoch === null ? null : offset + outcome.bestEpoch,
  };
}

/** A member's progress as the page sees the run's: its epochs and batches moved to its span. */
function memberProgress(
  progress: (progress: TrainProgress) => void,
  offset: number,
  epochs: number,
  members: number,
  batchesPerEpoch: number,
): (message: TrainProgress) => void {
  const batches = offset * batchesPerEpoch;
  const totalBatches = epochs * batchesPerEpoch;
  return (message) => {
    switch (message.type) {
      case 'trainingStarted':
        return progress({ ...message, epochs, totalBatches, members });
      case 'batchEnd':
        return progress({
          ...message,
          epoch: offset + message.epoch,
          batchesDone: batches + message.batchesDone,
          totalBatches,
        });
      case 'epochEnd':
        return progress({
          ...message,
          epoch: offset + message.epoch,
          bestEpoch: message.bestEpoch >= 0 ? offset + message.bestEpoch : message.bestEpoch,
        });
      case 'checkpoint':
        return progress({ ...message, epoch: offset + message.epoch });
      case 'held':
        return progress({ ...message, batchesDone: batches + message.batchesDone });
      default:
        return progress(message);
    }
  };
}

/**
 * The members a resumed run finished before its checkpoint (read and checked against `shape`, which goes), and the
 * epochs done in the member it was in. Every stored byte is hostile: a count that does not fit the run is refused.
 */
function resumedMembers(
  shape: tf.LayersModel,
  settings: TrainSettings,
  resume: ResumeFrom,
): { finished: MemberWeights[]; epochsDoneInMember: number } {
  try {
    const span = settings.epochs;
    const count = resume.snapshots ? storedSnapshotCount(resume.snapshots, 'seed') : 0;
    // Member k's epochs are the run's [k*E, (k+1)*E): `count` finished members ran some of the first `count` spans.
    const fits =
      count <= settings.seedModels &&
      (count === 0 || resume.epochsDone > (count - 1) * span) &&
      resume.epochsDone <= (count + 1) * span;
    if (!fits)
      throw new UserError(
        `The saved run's finished members cannot be used (${count} stored after ${resume.epochsDone} epochs of ` +
          `${span} a member): they were changed outside the app or belong to another run. Train the seed ensemble ` +
          'again from the start.',
      );
    const finished = resume.snapshots && count > 0 ? snapshotsOfFiles(shape, resume.snapshots, count, 'seed') : [];
    return { finished, epochsDoneInMember: Math.max(0, resume.epochsDone - count * span) };
  } finally {
    disposeCnn(shape);
  }
}

/** The page's resume point in the member whose span starts at `offset` (its best epoch only when in that span). */
function memberResume(resume: ResumeFrom, offset: number): ResumeFrom {
  const best =
    resume.best && resume.best.epoch >= offset ? { ...resume.best, epoch: resume.best.epoch - offset } : null;
  return { ...resume, epochsDone: resume.epochsDone - offset, best };
}

function setWeightsOf(model: tf.LayersModel, weights: MemberWeights): void {
  for (const layer of model.layers) {
    const own = weights.get(layer.name);
    if (own) layer.setWeights(own);
  }
}
