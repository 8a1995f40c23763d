/**
 * The numbers behind the page's charts, in words or table rows, for readers who cannot see a canvas
 * (screen readers, and anyone who wants the exact figure). Pure functions.
 */
import type { RocPoint } from '../../eval/metrics';
import type { TrainingView } from '../training/trainingState';

/** "NORMAL 40, PNEUMONIA 40 (80 images)." for one split's class count plot. */
export function classCountsText(classNames: readonly string[], counts: Readonly<Record<string, number>>): string {
  const total = classNames.reduce((sum, c) => sum + (counts[c] ?? 0), 0);
  return `${classNames.map((c) => `${c} ${counts[c] ?? 0}`).join(', ')} (${total} images).`;
}

/** The confusion matrix row by row: "NORMAL: 8 as NORMAL, 0 as PNEUMONIA; PNEUMONIA: …". */
export function confusionText(matrix: readonly (readonly number[])[], classNames: readonly string[]): string {
  const rows = matrix.map((row, i) => `${classNames[i]}: ${row.map((n, j) => `${n} as ${classNames[j]}`).join(', ')}`);
  return `True class, then how many were predicted as each class. ${rows.join('; ')}.`;
}

/** False-positive rates the ROC table reads the curve at. */
export const ROC_TABLE_FPR = [0, 0.05, 0.1, 0.2, 0.3, 0.5, 1] as const;

export interface RocRow {
  /** The false-positive rate allowed. */
  maxFpr: number;
  /** The highest sensitivity the curve reaches within it, its actual false-positive rate, and the threshold there. */
  tpr: number;
  fpr: number;
  threshold: number;
}

/**
 * The ROC curve read at a few false-positive rates: for each, the highest sensitivity of any threshold whose
 * false-positive rate is at most that (the curve starts at (0, 0), so there is always one).
 */
export function rocTableRows(points: readonly RocPoint[], fprs: readonly number[] = ROC_TABLE_FPR): RocRow[] {
  if (points.length === 0) return [];
  return fprs.map((maxFpr) => {
    let best = points[0];
    for (const p of points) if (p.fpr <= maxFpr + 1e-12 && p.tpr > best.tpr) best = p;
    return { maxFpr, tpr: best.tpr, fpr: best.fpr, threshold: best.threshold };
  });
}

/**
 * One line on where training is, for the training panel's live region: it changes with the phase and once an
 * epoch (never every batch), so a screen reader is told of each epoch without being flooded.
 */
export function trainingSummary(
  view: Pick<
    TrainingView,
    'phase' | 'epochs' | 'epochPoints' | 'paused' | 'held' | 'batchesDone' | 'totalBatches' | 'epochsDone'
  > & { members?: number },
): string {
  const members = view.members ?? 1;
  if (members > 1 && (view.phase === 'training' || view.phase === 'evaluating')) {
    // A seed ensemble: which member trains, and its epochs counted within it (the history counts the run's).
    const span = view.epochs / members;
    const member = Math.min(members, Math.floor((view.batchesDone / Math.max(1, view.totalBatches)) * members) + 1);
    const last = view.epochPoints.at(-1);
    const inMember = last && Math.floor(last.epoch / span) + 1 === member ? last : undefined;
    const memberView = {
      ...view,
      members: 1,
      epochs: span,
      epochPoints: inMember ? [{ ...inMember, epoch: inMember.epoch - (member - 1) * span }] : [],
    };
    const text = trainingSummary(memberView);
    return view.phase === 'training' ? `Member ${member} of ${members}. ${text}` : text;
  }
  const last = view.epochPoints.at(-1);
  const lastText = last
    ? `Epoch ${last.epoch + 1} of ${view.epochs} finished: loss ${last.loss.toFixed(4)}, accuracy ${last.accuracy.toFixed(4)}; validation loss ${last.valLoss.toFixed(4)}, validation accuracy ${last.valAccuracy.toFixed(4)}.`
    : '';
  switch (view.phase) {
    case 'idle':
      return 'Not trained yet.';
    case 'starting':
      return 'Training is starting: choosing the backend.';
    case 'training':
      if (view.paused && view.held)
        return `Paused after batch ${view.batchesDone} of ${view.totalBatches}. ${lastText}`.trim();
      if (view.paused) return `Pausing after the batch under way. ${lastText}`.trim();
      return last ? lastText : `Training epoch 1 of ${view.epochs}.`;
    case 'evaluating':
      return `Training finished; evaluating on the held-out images. ${lastText}`.trim();
    case 'done':
      return `Done${epochsTrained(view.epochsDone, view.epochs)}.`;
    case 'stopped':
      return `Stopped${epochsTrained(view.epochsDone, view.epochs)}.`;
    case 'error':
      return 'Training failed: see the message at the top of the page.';
  }
}

/** ": 2 of 5 epochs trained", or ": 3 epochs trained" when the planned count is not known (a restored run). */
function epochsTrained(done: number, planned: number): string {
  if (done === 0) return '';
  const of = planned >= done ? ` of ${planned}` : '';
  return `: ${done}${of} epoch${planned === 1 || (of === '' && done === 1) ? '' : 's'} trained`;
}
