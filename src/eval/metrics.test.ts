/** Binary metrics (metrics.ts): the confusion counts and rates, ROC AUC and curve, the positive class, class weights. */
import { describe, expect, it } from 'vitest';
import {
  binaryMetrics,
  binaryScores,
  classWeights,
  defaultPositiveClass,
  rocAuc,
  rocCurve,
  type RocPoint,
} from './metrics';

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Area under the ROC step list by the trapezoid rule (equals the Mann–Whitney AUC with ties as 1/2). */
function trapezoid(points: RocPoint[]): number {
  let area = 0;
  for (let i = 1; i < points.length; i++) {
    area += ((points[i].fpr - points[i - 1].fpr) * (points[i].tpr + points[i - 1].tpr)) / 2;
  }
  return area;
}

/** O(n²) definition of AUC: share of (positive, negative) pairs ranked right, ties 1/2. */
function bruteAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!positive[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (positive[j]) continue;
      pairs++;
      if (scores[i] > scores[j]) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

// A small binary set, sorted by score; 4 positives (label 1), 5 negatives.
const S = [0.95, 0.85, 0.7, 0.6, 0.45, 0.35, 0.2, 0.1, 0.05];
const L = [1, 1, 0, 1, 1, 0, 0, 0, 0];

describe('binaryMetrics', () => {
  it('counts the confusion matrix at 0.5', () => {
    // score >= 0.5: 0.95(1) 0.85(1) 0.7(0) 0.6(1) → tp 3, fp 1
    // score <  0.5: 0.45(1) 0.35(0) 0.2(0) 0.1(0) 0.05(0) → fn 1, tn 4
    const m = binaryMetrics(S, L, 1);
    expect(m).toMatchObject({ threshold: 0.5, positiveClass: 1, tp: 3, fp: 1, tn: 4, fn: 1 });
    expect(m.accuracy).toBeCloseTo(7 / 9, 12); // (3 + 4) / 9
    expect(m.sensitivity).toBeCloseTo(0.75, 12); // 3 / (3 + 1)
    expect(m.specificity).toBeCloseTo(0.8, 12); // 4 / (4 + 1)
    expect(m.precision).toBeCloseTo(0.75, 12); // 3 / (3 + 1)
    expect(m.f1).toBeCloseTo(0.75, 12); // 2·3 / (2·3 + 1 + 1) = 6/8
    // AUC: each positive vs the 5 negatives (0.7 0.35 0.2 0.1 0.05):
    // 0.95 beats 5, 0.85 beats 5, 0.6 beats 4, 0.45 beats 4 → 18 / 20
    expect(m.auc).toBeCloseTo(0.9, 12);
  });

  it('counts the confusion matrix at 0.35 (a score equal to the threshold is positive)', () => {
    // score >= 0.35: 0.95(1) 0.85(1) 0.7(0) 0.6(1) 0.45(1) 0.35(0) → tp 4, fp 2
    // score <  0.35: 0.2(0) 0.1(0) 0.05(0) → tn 3, fn 0
    const m = binaryMetrics(S, L, 1, 0.35);
    expect(m).toMatchObject({ threshold: 0.35, tp: 4, fp: 2, tn: 3, fn: 0 });
    expect(m.accuracy).toBeCloseTo(7 / 9, 12); // (4 + 3) / 9
    expect(m.sensitivity).toBe(1); // 4 / 4
    expect(m.specificity).toBeCloseTo(0.6, 12); // 3 / 5
    expect(m.precision).toBeCloseTo(2 / 3, 12); // 4 / 6
    expect(m.f1).toBeCloseTo(0.8, 12); // 8 / (8 + 2 + 0)
    expect(m.auc).toBeCloseTo(0.9, 12); // threshold-free
  });

  it('flips when class 0 is the positive one', () => {
    const result = { scores: Float32Array.from(S), labels: Uint8Array.from(L), numClasses: 2 };
    const p0 = binaryScores(result, 0);
    for (let i = 0; i < S.length; i++) expect(p0[i]).toBeCloseTo(1 - S[i], 6);
    // P(class 0) >= 0.5 ⇔ S <= 0.5: 0.45(1) 0.35(0) 0.2(0) 0.1(0) 0.05(0) → tp 4, fp 1
    // otherwise: 0.95(1) 0.85(1) 0.7(0) 0.6(1) → tn 3, fn 1 — the class-1 matrix mirrored
    const m = binaryMetrics(p0, L, 0);
    expect(m).toMatchObject({ positiveClass: 0, tp: 4, fp: 1, tn: 3, fn: 1 });
    expect(m.sensitivity).toBeCloseTo(0.8, 12); // 4 / 5 = class-1 specificity
    expect(m.specificity).toBeCloseTo(0.75, 12); // 3 / 4 = class-1 sensitivity
    expect(m.precision).toBeCloseTo(0.8, 12); // 4 / 5
    expect(m.auc).toBeCloseTo(0.9, 12); // AUC is symmetric in the choice of positive class
    // binaryScores(…, 1) is the scores themselves.
    expect(Array.from(binaryScores(result, 1))).toEqual(Array.from(result.scores));
  });

  it('gives NaN for undefined rates, never a made-up 0 or 1', () => {
    // No positive image at all, nothing predicted positive: tp = fp = fn = 0, tn = 3.
    const none = binaryMetrics([0.1, 0.2, 0.3], [0, 0, 0], 1);
    expect(none).toMatchObject({ tp: 0, fp: 0, tn: 3, fn: 0, accuracy: 1, specificity: 1 });
    expect(none.sensitivity).toBeNaN(); // 0 / 0 positives
    expect(none.precision).toBeNaN(); // 0 / 0 predicted positives
    expect(none.f1).toBeNaN(); // 0 / (0 + 0 + 0)
    expect(none.auc).toBeNaN(); // no (positive, negative) pair

    // Positives exist but nothing is predicted positive: precision undefined, F1 = 0/(0+0+2) = 0.
    const missed = binaryMetrics([0.1, 0.2, 0.3], [1, 1, 0], 1);
    expect(missed).toMatchObject({ tp: 0, fp: 0, tn: 1, fn: 2, sensitivity: 0, specificity: 1, f1: 0 });
    expect(missed.precision).toBeNaN();

    // All positive: specificity undefined.
    expect(binaryMetrics([0.9, 0.2], [1, 1], 1).specificity).toBeNaN();

    // No images: everything a ratio is NaN.
    const empty = binaryMetrics([], [], 1);
    expect(empty).toMatchObject({ tp: 0, fp: 0, tn: 0, fn: 0 });
    for (const k of ['accuracy', 'sensitivity', 'specificity', 'precision', 'f1', 'auc'] as const)
      expect(empty[k]).toBeNaN();
  });

  it('treats a NaN score as predicted negative and its AUC as undefined', () => {
    const m = binaryMetrics([NaN, 0.9], [1, 0], 1);
    expect(m).toMatchObject({ tp: 0, fn: 1, fp: 1, tn: 0 });
    expect(m.auc).toBeNaN();
  });

  it('rejects scores and labels of different lengths', () => {
    expect(() => binaryMetrics([0.1, 0.2], [0], 1)).toThrow(RangeError);
  });
});

describe('rocAuc', () => {
  it('counts ties as 1/2', () => {
    // Pairs (pos, neg): (0.4, 0.1) 1, (0.4, 0.4) ½, (0.8, 0.1) 1, (0.8, 0.4) 1 → 3.5 / 4
    expect(rocAuc([0.1, 0.4, 0.4, 0.8], [0, 0, 1, 1], 1)).toBe(0.875);
    expect(rocAuc([0.1, 0.4, 0.4, 0.8], [false, false, true, true])).toBe(0.875);
  });

  it('is 0.5 for all-equal scores, 1 for perfect separation, 0 for inverted', () => {
    expect(rocAuc([0.3, 0.3, 0.3, 0.3], [0, 1, 0, 1], 1)).toBe(0.5); // 4 pairs, each ½
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], 1)).toBe(1);
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0], 1)).toBe(0);
    // Order of the input does not matter.
    expect(rocAuc([0.9, 0.1, 0.8, 0.2], [1, 0, 1, 0], 1)).toBe(1);
  });

  it('is NaN without both classes or with a NaN score', () => {
    expect(rocAuc([0.1, 0.9], [1, 1], 1)).toBeNaN();
    expect(rocAuc([0.1, 0.9], [false, false])).toBeNaN();
    expect(rocAuc([], [])).toBeNaN();
    expect(rocAuc([0.1, NaN, 0.3], [0, 1, 1], 1)).toBeNaN();
  });

  it('matches the O(n²) definition on tied random data', () => {
    const rand = lcg(42);
    const n = 1500;
    const scores = Float32Array.from({ length: n }, () => Math.round(rand() * 40) / 40); // many ties
    const positive = Array.from(scores, (s) => rand() < 0.2 + 0.6 * s);
    expect(rocAuc(scores, positive)).toBeCloseTo(bruteAuc(scores, positive), 12);
  });

  it('handles 100k images and agrees with the ROC curve area', () => {
    const rand = lcg(7);
    const n = 100_000;
    const scores = Float32Array.from({ length: n }, () => rand());
    const labels = Uint8Array.from(scores, (s) => (rand() < s ? 1 : 0));
    const auc = rocAuc(scores, labels, 1);
    const points = rocCurve(scores, labels, 1);
    // P(label 1 | s) = s with s uniform ⇒ theoretical AUC = 5/6 … roughly.
    expect(auc).toBeGreaterThan(0.8);
    expect(auc).toBeLessThan(0.87);
    expect(trapezoid(points)).toBeCloseTo(auc, 9);
  });
});

describe('rocCurve', () => {
  it('makes one step per distinct score, from (0,0) to (1,1)', () => {
    // 2 positives, 2 negatives; from the highest score down:
    // start               → (0, 0)
    // >= 0.8: tp 1        → (0, 0.5)
    // >= 0.4: tp 2, fp 1  → (0.5, 1)   (the tie makes one diagonal step)
    // >= 0.1: tp 2, fp 2  → (1, 1)
    expect(rocCurve([0.1, 0.4, 0.4, 0.8], [0, 0, 1, 1], 1)).toEqual([
      { fpr: 0, tpr: 0, threshold: Infinity },
      { fpr: 0, tpr: 0.5, threshold: 0.8 },
      { fpr: 0.5, tpr: 1, threshold: 0.4 },
      { fpr: 1, tpr: 1, threshold: 0.1 },
    ]);
    // Trapezoids: 0 + 0.5·(0.5+1)/2 + 0.5·(1+1)/2 = 0.375 + 0.5 = 0.875 = AUC
    expect(trapezoid(rocCurve([0.1, 0.4, 0.4, 0.8], [0, 0, 1, 1], 1))).toBe(0.875);
  });

  it('is a single diagonal step for all-equal scores', () => {
    expect(rocCurve([0.3, 0.3, 0.3], [0, 1, 0], 1)).toEqual([
      { fpr: 0, tpr: 0, threshold: Infinity },
      { fpr: 1, tpr: 1, threshold: 0.3 },
    ]);
  });

  it('agrees with binaryMetrics at every threshold, including on Float32 scores', () => {
    const scores = Float32Array.from(S);
    for (const p of rocCurve(scores, L, 1).slice(1)) {
      const m = binaryMetrics(scores, L, 1, p.threshold);
      expect(p.tpr).toBe(m.sensitivity);
      expect(p.fpr).toBe(m.fp / (m.fp + m.tn));
    }
  });

  it('is empty when a rate is undefined', () => {
    expect(rocCurve([0.1, 0.2], [1, 1], 1)).toEqual([]);
    expect(rocCurve([0.1, 0.2], [0, 0], 1)).toEqual([]);
    expect(rocCurve([0.1, NaN], [0, 1], 1)).toEqual([]);
  });
});

describe('defaultPositiveClass', () => {
  it('picks the class that is not NORMAL, else class 1', () => {
    expect(defaultPositiveClass(['NORMAL', 'PNEUMONIA'])).toBe(1);
    expect(defaultPositiveClass(['Pneumonia', 'normal'])).toBe(0);
    expect(defaultPositiveClass(['cat', 'dog'])).toBe(1);
    expect(defaultPositiveClass(['normal', 'Normal'])).toBe(1);
    expect(defaultPositiveClass(['a', 'NORMAL', 'c'])).toBe(1);
    expect(defaultPositiveClass(['only'])).toBe(0);
  });
});

describe('classWeights', () => {
  it("follows the 'balanced' convention total / (numClasses · count)", () => {
    // total = 1341 + 3875 = 5216; 5216 / (2·1341) = 5216 / 2682 ≈ 1.94482; 5216 / (2·3875) = 5216 / 7750 ≈ 0.67303
    const [w0, w1] = classWeights([1341, 3875]);
    expect(w0).toBeCloseTo(1.944817, 6);
    expect(w1).toBeCloseTo(0.673032, 6);
    // Weighted totals are equal: 1341·w0 = 3875·w1 = 5216 / 2 = 2608
    expect(1341 * w0).toBeCloseTo(2608, 9);
    expect(3875 * w1).toBeCloseTo(2608, 9);
  });

  it('gives an empty class weight 0', () => {
    // total 40, 3 classes: 40/(3·10) = 4/3, 0, 40/(3·30) = 4/9
    const w = classWeights([10, 0, 30]);
    expect(w[0]).toBeCloseTo(4 / 3, 12);
    expect(w[1]).toBe(0);
    expect(w[2]).toBeCloseTo(4 / 9, 12);
  });
});
