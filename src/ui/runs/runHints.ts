/** Why Resume or Evaluate cannot start now, in words for the page; null when they can. */
import type { SavedRun } from '../../storage/runsDb';
import { reloadReason } from '../dataset/datasetOptions';
import type { DatasetView } from '../dataset/useDataset';

const sameClasses = (a: string[], b: string[]) => a.join('\u0000') === b.join('\u0000');

export function datasetNameOf(view: DatasetView): string {
  return view.source.kind === 'demo' ? 'demo dataset' : view.source.name;
}

/** Why Resume cannot start now, in words; null when it can. */
export function resumeProblem(
  run: SavedRun | null,
  view: DatasetView | null,
  dataReady: boolean,
  busy: boolean,
): string | null {
  if (busy) return 'Wait for the current work to finish.';
  if (!run || run.status === 'loaded') return 'Train a model (or open a saved run) to resume it.';
  if (!run.models.includes('checkpoint')) return 'This run has no finished epoch to continue from.';
  // A finished ensemble is one stacked model for inference; a run cut short resumes with its snapshots or members
  // (a seed ensemble's last member may stop early, before the run's planned epochs).
  if (run.ensemble && (run.history.epochsDone >= run.history.epochs || run.status === 'done'))
    return `This run’s model is a ${run.ensemble.kind === 'seeds' ? 'seed' : 'snapshot'} ensemble: it cannot be trained further. Train a new run instead.`;
  if (!view || !dataReady) return `Load the run's dataset (${run.datasetName}) again to resume training.`;
  if (!sameClasses(view.classNames, run.classNames))
    return `The loaded dataset's classes are not the run's (${run.classNames.join(', ')}).`;
  const reason = reloadReason(view, run.settings);
  if (reason)
    return `Load the dataset as the run had it (Image size ${run.settings.imageSize} px, the same split settings). ${reason}`;
  return null;
}

/** What Resume does with a snapshot-ensemble run cut short (it ignores More epochs); null for any other run. */
export function snapshotResumeText(run: SavedRun | null): string | null {
  if (!run) return null;
  const { epochs, epochsDone } = run.history;
  if (epochsDone >= epochs) return null;
  if ((run.settings.seedModels ?? 1) > 1)
    return (
      `Continues this seed-ensemble run in the member it was in (${run.settings.epochs} epochs a member; More ` +
      'epochs is not used), with the members finished so far; all of them are stacked at the end.'
    );
  if ((run.settings.snapshots ?? 1) <= 1) return null;
  return (
    `Continues this snapshot-ensemble run to its ${epochs} planned epochs (More epochs is not used), in the cycle ` +
    'it was in, with the snapshots taken so far; all of them are stacked at the end.'
  );
}

/** Why the page's model cannot be scored on the loaded dataset now; null when it can. */
export function evaluateProblem(
  run: SavedRun | null,
  view: DatasetView | null,
  modelSize: number | null,
  dataReady: boolean,
): string | null {
  if (!view || !dataReady) return 'Load a dataset to evaluate the model on.';
  if (view.size !== modelSize)
    return `The model takes ${modelSize} px images: set Image size to ${modelSize} and load the dataset again.`;
  if (run && !sameClasses(view.classNames, run.classNames))
    return `The dataset's classes (${view.classNames.join(', ')}) are not the model's (${run.classNames.join(', ')}).`;
  return null;
}
