import { describe, expect, it } from 'vitest';
import { classWeightsText, outcomeText } from './outcome';

describe('the run in words', () => {
  it('says when training stopped early and whose weights were restored', () => {
    expect(outcomeText({ reason: 'early-stopped', epochsDone: 7, bestEpoch: 3, restoredBest: true })).toBe(
      'Stopped early after epoch 7; weights of epoch 4 restored (lowest validation loss).',
    );
    expect(outcomeText({ reason: 'completed', epochsDone: 10, bestEpoch: 7, restoredBest: true })).toBe(
      'Trained all 10 epochs; weights of epoch 8 restored (lowest validation loss).',
    );
    expect(outcomeText({ reason: 'completed', epochsDone: 10, bestEpoch: 9, restoredBest: true })).toBe(
      'Trained all 10 epochs; the last epoch had the lowest validation loss, so its weights are kept.',
    );
    expect(outcomeText({ reason: 'stopped', epochsDone: 2, bestEpoch: 1, restoredBest: true })).toBe(
      'Stopped by Stop after 2 complete epochs; weights of epoch 2 restored (lowest validation loss).',
    );
  });

  it('says when early stopping was off or nothing was validated', () => {
    expect(outcomeText({ reason: 'completed', epochsDone: 5, bestEpoch: 2, restoredBest: false })).toMatch(
      /off \(patience 0\).*last epoch, 5; epoch 3 had the lowest/,
    );
    expect(outcomeText({ reason: 'stopped', epochsDone: 0, bestEpoch: null, restoredBest: false })).toMatch(
      /No epoch was completed/,
    );
    expect(outcomeText(null)).toBeNull();
  });

  it('lists class weights by name', () => {
    expect(classWeightsText(['NORMAL', 'PNEUMONIA'], [1.9448, 0.673])).toBe('NORMAL 1.94, PNEUMONIA 0.67');
    expect(classWeightsText(['NORMAL', 'PNEUMONIA'], null)).toMatch(/^none/);
  });

  it("says a seed ensemble's outcome in its last member's own epochs", () => {
    // 3 members of 10 epochs: the last trained all of the run's epochs 21 to 30, its best the run's epoch 27.
    const outcome = { reason: 'completed' as const, epochsDone: 30, bestEpoch: 26, restoredBest: true };
    expect(outcomeText(outcome, 3, 30)).toBe(
      "Member 3 of 3 (the run's epochs 21 to 30): Trained all 10 epochs; weights of epoch 7 restored (lowest " +
        'validation loss). Each member before it kept the weights of its own best epoch.',
    );
    const stopped = { reason: 'early-stopped' as const, epochsDone: 25, bestEpoch: 21, restoredBest: true };
    expect(outcomeText(stopped, 3, 30)).toMatch(/^Member 3 of 3 .*: Stopped early after epoch 5; weights of epoch 2/);
    // Early stopping off (patience 0, the default): every member kept its last epoch.
    const last = { reason: 'completed' as const, epochsDone: 20, bestEpoch: 12, restoredBest: false };
    expect(outcomeText(last, 2, 20)).toBe(
      "Member 2 of 2 (the run's epochs 11 to 20): Early stopping was off (patience 0): the model keeps the weights of " +
        'the last epoch, 10; epoch 3 had the lowest validation loss. Each member before it kept the weights of its own ' +
        'last epoch.',
    );
  });
});
