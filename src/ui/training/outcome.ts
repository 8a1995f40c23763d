import type { TrainingOutcome } from '../../core/types';

/**
 * The run's end in words: early stopping, and whose weights the model kept, e.g.
 * "Stopped early after epoch 7; weights of epoch 4 restored (lowest validation loss)."
 * Epochs are counted from 1 here, as the Training history table does. Null while the run goes on.
 */
export function outcomeText(outcome: TrainingOutcome | null, members = 1, epochs = 0): string | null {
  if (!outcome) return null;
  if (members > 1 && epochs > 0 && outcome.epochsDone > 0) {
    // A seed ensemble: the outcome is its last member's, said in that member's own epochs.
    const span = epochs / members;
    const member = Math.min(members - 1, Math.floor((outcome.epochsDone - 1) / span));
    const offset = member * span;
    const own = outcomeText({
      ...outcome,
      epochsDone: outcome.epochsDone - offset,
      bestEpoch: outcome.bestEpoch === null ? null : outcome.bestEpoch - offset,
    });
    const kept = outcome.restoredBest ? 'the weights of its own best epoch' : 'the weights of its own last epoch';
    return `Member ${member + 1} of ${members} (the run's epochs ${offset + 1} to ${offset + span}): ${own} Each member before it kept ${kept}.`;
  }
  const { reason, epochsDone, bestEpoch, restoredBest } = outcome;
  if (bestEpoch === null) {
    return epochsDone === 0
      ? 'No epoch was completed, so none was validated: the model is as training left it.'
      : 'No epoch had a finite validation loss: the model keeps the weights of the last epoch.';
  }
  const best = bestEpoch + 1;
  if (!restoredBest) {
    return `Early stopping was off (patience 0): the model keeps the weights of the last epoch, ${epochsDone}; epoch ${best} had the lowest validation loss.`;
  }
  const ran =
    reason === 'early-stopped'
      ? `Stopped early after epoch ${epochsDone}`
      : reason === 'stopped'
        ? `Stopped by Stop after ${epochsDone} complete epoch${epochsDone === 1 ? '' : 's'}`
        : `Trained all ${epochsDone} epoch${epochsDone === 1 ? '' : 's'}`;
  if (best === epochsDone && reason !== 'stopped')
    return `${ran}; the last epoch had the lowest validation loss, so its weights are kept.`;
  return `${ran}; weights of epoch ${best} restored (lowest validation loss).`;
}

/** "NORMAL 1.94, PNEUMONIA 0.67", or what weighting off means. */
export function classWeightsText(classNames: readonly string[], weights: readonly number[] | null): string {
  if (!weights) return 'none (every image weighs the same)';
  return weights.map((w, i) => `${classNames[i] ?? `class ${i}`} ${w.toFixed(2)}`).join(', ');
}
