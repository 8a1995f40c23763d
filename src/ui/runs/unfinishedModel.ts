/**
 * Which stored model a run that did not finish (the tab closed, the worker died) comes back with: what it would have
 * kept, had it ended after its last finished epoch. With early stopping on, the best epoch so far (the end restores
 * it); with it off (patience 0, the default), the last finished epoch: the best by validation loss is then often an
 * early, weak one (under the default augmentation BatchNorm's statistics follow the augmented images).
 */
import type { Settings } from '../../core/types';
import type { ModelKind } from '../../storage/runsDb';

/** The stored model kind to bring back: `best` or `checkpoint` (which are the same files' format). */
export function unfinishedModelKind(settings: Pick<Settings, 'patience'>): Extract<ModelKind, 'best' | 'checkpoint'> {
  return settings.patience > 0 ? 'best' : 'checkpoint';
}

/** Which stored model a saved run shows: its kept one when it finished, else what unfinishedModelKind names. */
export function storedModelKind(run: {
  models: readonly ModelKind[];
  settings: Pick<Settings, 'patience'>;
}): ModelKind | null {
  if (run.models.includes('model')) return 'model';
  const unfinished = unfinishedModelKind(run.settings);
  return run.models.includes(unfinished) ? unfinished : null;
}

/** In words, epochs counted from 1: "the best epoch so far (3 of 5)" or "the last finished epoch (5)". */
export function unfinishedModelText(
  settings: Pick<Settings, 'patience'>,
  history: { bestEpoch: number | null; epochsDone: number },
): string {
  if (unfinishedModelKind(settings) === 'checkpoint')
    return `the last finished epoch (${history.epochsDone}; early stopping was off)`;
  return `the best epoch so far (${history.bestEpoch === null ? '–' : history.bestEpoch + 1} of ${history.epochsDone})`;
}
