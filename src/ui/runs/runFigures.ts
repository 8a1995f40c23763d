/**
 * What the Runs list and its comparison say of a run's evaluation: the figures its Results report (accuracy at the
 * threshold its rule chose on validation, AUC), worked out from the scores the run kept, once a stored record.
 * Runs that kept no scores show the figures stored with them.
 */
import { headlineFigures, type HeadlineFigures } from '../../eval/headlineFigures';
import type { SavedRun } from '../../storage/runsDb';

export interface RunFigures {
  accuracy: number | null;
  auc: number | null;
  /** The operating point the accuracy is at; null with more than two classes, or where it is not known. */
  threshold: number | null;
}

// Records are replaced, never changed, when a run is saved again: one computation a record.
const computed = new WeakMap<SavedRun, HeadlineFigures | null>();

export function runFigures(run: SavedRun): RunFigures {
  if (!computed.has(run)) computed.set(run, headlineFigures(run.scores, run.classNames, run.settings));
  const figures = computed.get(run);
  if (figures) return figures;
  return { accuracy: run.figures.testAccuracy, auc: run.figures.testAuc, threshold: null };
}
