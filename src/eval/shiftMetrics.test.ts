/** The acquisition-shift check's figures at the page's threshold, and the shift that hurts most. */
import { describe, expect, it } from 'vitest';
import type { AcquisitionShift, ShiftCheckScores } from '../core/acquisitionShifts';
import { shiftRows, worstShift } from './shiftMetrics';

/** Four NORMAL (0) and four PNEUMONIA (1) images. */
const LABELS = Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 1]);

function check(shifts: [AcquisitionShift, number[], number[] | null][], numClasses = 2): ShiftCheckScores {
  return {
    split: 'test',
    splitCount: 80,
    numClasses,
    labels: numClasses === 2 ? LABELS : Uint8Array.from([0, 1, 2, 0]),
    shifts: shifts.map(([shift, scores, unlike]) => ({
      shift,
      scores: Float32Array.from(scores),
      unlike: unlike ? Uint8Array.from(unlike) : null,
    })),
  };
}

const AS_IS = [0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.95];
// Blurred: every NORMAL film called PNEUMONIA at 0.5, the ranking kept but for one pair.
const BLURRED = [0.6, 0.7, 0.75, 0.9, 0.8, 0.85, 0.95, 0.99];

describe('the acquisition-shift figures', () => {
  it('counts each shift at the threshold, with AUC and the share judged unlike the training data', () => {
    const rows = shiftRows(
      check([
        ['as is', AS_IS, [0, 0, 0, 0, 0, 0, 0, 1]],
        ['blurred', BLURRED, [1, 0, 0, 0, 1, 0, 0, 0]],
      ]),
      1,
      0.5,
    );
    expect(rows[0]).toMatchObject({ shift: 'as is', count: 8, accuracy: 7 / 8, sensitivity: 1, specificity: 3 / 4 });
    expect(rows[0].auc).toBe(1);
    expect(rows[0].unlikeShare).toBe(1 / 8);
    expect(rows[1]).toMatchObject({ shift: 'blurred', accuracy: 4 / 8, sensitivity: 1, specificity: 0 });
    // 16 pairs; the NORMAL at 0.9 outranks the PNEUMONIA at 0.8 and 0.85.
    expect(rows[1].auc).toBe(14 / 16);
    expect(rows[1].unlikeShare).toBe(2 / 8);
  });

  it('follows the threshold and the positive class', () => {
    const scores = check([['as is', AS_IS, null]]);
    expect(shiftRows(scores, 1, 0.65)[0]).toMatchObject({ sensitivity: 1, specificity: 1, accuracy: 1 });
    expect(shiftRows(scores, 1, 0.92)[0]).toMatchObject({ sensitivity: 1 / 4, specificity: 1 });
    // NORMAL positive: its score is 1 - P(PNEUMONIA).
    expect(shiftRows(scores, 0, 0.5)[0]).toMatchObject({ sensitivity: 3 / 4, specificity: 1 });
    expect(shiftRows(scores, 1, 0.5)[0].unlikeShare).toBeNull();
  });

  it('names the largest fall of specificity or sensitivity against the images as they are', () => {
    const rows = shiftRows(
      check([
        ['as is', AS_IS, null],
        ['blurred', BLURRED, null],
        // Inverted: sensitivity falls from 1 to 0.5, less than blurred's specificity.
        ['inverted', [0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.1, 0.1], null],
      ]),
      1,
      0.5,
    );
    expect(worstShift(rows)).toMatchObject({ metric: 'specificity', from: 0.75, to: 0 });
    expect(worstShift(rows)?.row.shift).toBe('blurred');
    expect(worstShift(rows.slice(0, 1))).toBeNull();
  });

  it('gives accuracy alone (most probable class) for more than two classes', () => {
    const probabilities = [0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.2, 0.7, 0.3, 0.6, 0.1];
    const worse = [0.2, 0.7, 0.1, 0.2, 0.7, 0.1, 0.7, 0.2, 0.1, 0.3, 0.6, 0.1];
    const rows = shiftRows(
      check(
        [
          ['as is', probabilities, null],
          ['noise', worse, null],
        ],
        3,
      ),
      1,
      0.5,
    );
    expect(rows.map((r) => r.accuracy)).toEqual([3 / 4, 1 / 4]);
    expect(rows[0].sensitivity).toBeNaN();
    expect(rows[0].auc).toBeNaN();
    expect(worstShift(rows)).toMatchObject({ metric: 'accuracy', from: 0.75, to: 0.25 });
  });
});
