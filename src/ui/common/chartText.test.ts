import { describe, expect, it } from 'vitest';
import { rocCurve } from '../../eval/metrics';
import { classCountsText, confusionText, rocTableRows, trainingSummary } from './chartText';

describe('the numbers behind the charts', () => {
  it('writes class counts and the confusion matrix in words', () => {
    expect(classCountsText(['NORMAL', 'PNEUMONIA'], { NORMAL: 40, PNEUMONIA: 38 })).toBe(
      'NORMAL 40, PNEUMONIA 38 (78 images).',
    );
    expect(classCountsText(['a', 'b'], { a: 3 })).toBe('a 3, b 0 (3 images).');
    expect(
      confusionText(
        [
          [8, 0],
          [3, 5],
        ],
        ['NORMAL', 'PNEUMONIA'],
      ),
    ).toBe(
      'True class, then how many were predicted as each class. NORMAL: 8 as NORMAL, 0 as PNEUMONIA; PNEUMONIA: 3 as NORMAL, 5 as PNEUMONIA.',
    );
  });

  it('reads the ROC curve at a few false-positive rates: the best sensitivity within each', () => {
    // Scores of 4 negatives (label 0) and 4 positives (label 1), positive class 1.
    const scores = [0.1, 0.2, 0.35, 0.8, 0.3, 0.6, 0.7, 0.9];
    const labels = [0, 0, 0, 0, 1, 1, 1, 1];
    const rows = rocTableRows(rocCurve(scores, labels, 1), [0, 0.25, 0.5, 1]);
    expect(rows.map((r) => [r.maxFpr, r.fpr, r.tpr])).toEqual([
      [0, 0, 0.25],
      [0.25, 0.25, 0.75],
      [0.5, 0.5, 1],
      [1, 0.5, 1],
    ]);
    expect(rows[1].threshold).toBe(0.6);
    expect(rocTableRows([])).toEqual([]);
  });

  it('sums training up once an epoch, not once a batch', () => {
    const base = {
      phase: 'training' as const,
      epochs: 3,
      paused: false,
      held: false,
      batchesDone: 4,
      totalBatches: 30,
      epochsDone: 0,
      epochPoints: [],
    };
    expect(trainingSummary(base)).toBe('Training epoch 1 of 3.');
    expect(trainingSummary({ ...base, batchesDone: 9 })).toBe(trainingSummary(base));
    const epochPoints = [
      { epoch: 0, x: 1, loss: 0.5, accuracy: 0.75, valLoss: 0.6, valAccuracy: 0.7, bestEpoch: 0, tensors: 10 },
    ];
    expect(trainingSummary({ ...base, epochPoints, batchesDone: 12 })).toBe(
      'Epoch 1 of 3 finished: loss 0.5000, accuracy 0.7500; validation loss 0.6000, validation accuracy 0.7000.',
    );
    // Paused: the batch under way finishes first, and the line says so until the worker holds.
    expect(trainingSummary({ ...base, epochPoints, paused: true, batchesDone: 12 })).toMatch(
      /^Pausing after the batch under way\. Epoch 1 of 3 finished/,
    );
    expect(trainingSummary({ ...base, epochPoints, paused: true, held: true, batchesDone: 12 })).toMatch(
      /^Paused after batch 12 of 30\. Epoch 1 of 3 finished/,
    );
    expect(trainingSummary({ ...base, phase: 'done', epochsDone: 3 })).toBe('Done: 3 of 3 epochs trained.');
    expect(trainingSummary({ ...base, phase: 'stopped', epochsDone: 1, epochs: 0 })).toBe('Stopped: 1 epoch trained.');
    expect(trainingSummary({ ...base, phase: 'done', epochsDone: 0, epochs: 0 })).toBe('Done.');
  });

  it('says which member of a seed ensemble trains, and its epochs counted within it', () => {
    // 3 members of 2 epochs, 5 batches an epoch: the run's 6 epochs, 30 batches.
    const base = {
      phase: 'training' as const,
      epochs: 6,
      members: 3,
      paused: false,
      held: false,
      batchesDone: 2,
      totalBatches: 30,
      epochsDone: 0,
      epochPoints: [],
    };
    expect(trainingSummary(base)).toBe('Member 1 of 3. Training epoch 1 of 2.');
    const point = { x: 3, loss: 0.5, accuracy: 0.75, valLoss: 0.6, valAccuracy: 0.7, bestEpoch: 2, tensors: 10 };
    // The run's epoch 3 (0-based 2) is member 2's first.
    expect(trainingSummary({ ...base, batchesDone: 16, epochPoints: [{ ...point, epoch: 2 }] })).toBe(
      'Member 2 of 3. Epoch 1 of 2 finished: loss 0.5000, accuracy 0.7500; validation loss 0.6000, validation accuracy 0.7000.',
    );
    // Member 2 stopped early after its first epoch: member 3 starts at the run's batch 20.
    expect(trainingSummary({ ...base, batchesDone: 21, epochPoints: [{ ...point, epoch: 2 }] })).toBe(
      'Member 3 of 3. Training epoch 1 of 2.',
    );
  });
});
