/** More than two classes (multiClass.ts): per-class and macro metrics, argmax predictions, the confusion matrix. */
import { describe, expect, it } from 'vitest';
import { binaryMetrics, binaryScores } from './metrics';
import { argmaxPredictions, confusionMatrix, multiClassMetrics } from './multiClass';

describe('multi-class', () => {
  // 7 images of 3 classes; argmax in the comment.
  const rows = [
    [0.7, 0.2, 0.1], // label 0 → 0
    [0.3, 0.6, 0.1], // label 0 → 1
    [0.1, 0.8, 0.1], // label 1 → 1
    [0.2, 0.3, 0.5], // label 1 → 2
    [0.1, 0.1, 0.8], // label 2 → 2
    [0.5, 0.25, 0.25], // label 2 → 0
    [0.2, 0.6, 0.2], // label 2 → 1
  ];
  const result = {
    scores: Float32Array.from(rows.flat()),
    labels: Uint8Array.from([0, 0, 1, 1, 2, 2, 2]),
    numClasses: 3,
  };

  it('computes per-class and macro metrics by hand', () => {
    const m = multiClassMetrics(result);
    // rows = true class, columns = predicted
    expect(m.confusion).toEqual([
      [1, 1, 0],
      [0, 1, 1],
      [1, 1, 1],
    ]);
    expect(m.count).toBe(7);
    expect(m.numClasses).toBe(3);
    expect(m.accuracy).toBeCloseTo(3 / 7, 12); // diagonal 1 + 1 + 1
    // class 0: tp 1, predicted as 0: 2 (column), support 2 → P ½, R ½, F1 2/(2+1+1) = ½
    // class 1: tp 1, column 3, support 2 → P ⅓, R ½, F1 2/(2+2+1) = 0.4
    // class 2: tp 1, column 2, support 3 → P ½, R ⅓, F1 2/(2+1+2) = 0.4
    const expected = [
      { precision: 1 / 2, recall: 1 / 2, f1: 1 / 2, support: 2 },
      { precision: 1 / 3, recall: 1 / 2, f1: 0.4, support: 2 },
      { precision: 1 / 2, recall: 1 / 3, f1: 0.4, support: 3 },
    ];
    m.perClass.forEach((c, i) => {
      expect(c.support).toBe(expected[i].support);
      expect(c.precision).toBeCloseTo(expected[i].precision, 12);
      expect(c.recall).toBeCloseTo(expected[i].recall, 12);
      expect(c.f1).toBeCloseTo(expected[i].f1, 12);
    });
    expect(m.macro.precision).toBeCloseTo(4 / 9, 12); // (½ + ⅓ + ½) / 3
    expect(m.macro.recall).toBeCloseTo(4 / 9, 12); // (½ + ½ + ⅓) / 3
    expect(m.macro.f1).toBeCloseTo(1.3 / 3, 12); // (0.5 + 0.4 + 0.4) / 3
  });

  it('takes a column as the binary score of a class (one-vs-rest)', () => {
    const p2 = binaryScores(result, 2);
    expect(Array.from(p2)).toEqual(Array.from(Float32Array.from([0.1, 0.1, 0.1, 0.5, 0.8, 0.25, 0.2])));
    // class 2 vs rest at 0.5: predicted 2 for images 3 (label 1) and 4 (label 2) → tp 1, fp 1, fn 2, tn 3
    expect(binaryMetrics(p2, result.labels, 2)).toMatchObject({ tp: 1, fp: 1, fn: 2, tn: 3 });
    expect(() => binaryScores(result, 3)).toThrow(RangeError);
  });

  it('handles a never-predicted class (NaN precision, 0 in the macro) and an absent class (left out)', () => {
    // 4 classes, class 3 never occurs nor is predicted; class 1 occurs but is never predicted.
    const r = {
      scores: Float32Array.from(
        [
          [0.9, 0.05, 0.03, 0.02], // label 0 → 0
          [0.8, 0.1, 0.05, 0.05], // label 0 → 0
          [0.6, 0.3, 0.05, 0.05], // label 1 → 0
          [0.1, 0.1, 0.7, 0.1], // label 2 → 2
        ].flat(),
      ),
      labels: Uint8Array.from([0, 0, 1, 2]),
      numClasses: 4,
    };
    const m = multiClassMetrics(r);
    expect(m.confusion).toEqual([
      [2, 0, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 0],
    ]);
    // class 0: P 2/3, R 1, F1 4/(4+1+0) = 0.8; class 1: P 0/0 = NaN, R 0, F1 0/(0+0+1) = 0; class 2: 1, 1, 1
    expect(m.perClass[0].precision).toBeCloseTo(2 / 3, 12);
    expect(m.perClass[0].f1).toBeCloseTo(0.8, 12);
    expect(m.perClass[1].precision).toBeNaN();
    expect(m.perClass[1]).toMatchObject({ recall: 0, f1: 0, support: 1 });
    expect(m.perClass[3].support).toBe(0);
    expect(m.perClass[3].precision).toBeNaN();
    expect(m.perClass[3].recall).toBeNaN();
    expect(m.perClass[3].f1).toBeNaN();
    // Macro over classes 0, 1, 2 (class 3 absent), NaN counted as 0:
    expect(m.macro.precision).toBeCloseTo(5 / 9, 12); // (2/3 + 0 + 1) / 3
    expect(m.macro.recall).toBeCloseTo(2 / 3, 12); // (1 + 0 + 1) / 3
    expect(m.macro.f1).toBeCloseTo(0.6, 12); // (0.8 + 0 + 1) / 3
    expect(m.accuracy).toBeCloseTo(3 / 4, 12);
  });

  it('reads a binary result (one score per image) with class 1 at >= 0.5', () => {
    const r = { scores: Float32Array.from([0.2, 0.7, 0.5, 0.4]), labels: Uint8Array.from([0, 0, 1, 1]), numClasses: 2 };
    expect(Array.from(argmaxPredictions(r))).toEqual([0, 1, 1, 0]);
    const m = multiClassMetrics(r);
    expect(m.confusion).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(m.accuracy).toBe(0.5);
  });

  it('breaks argmax ties toward the lower class, and is NaN on an empty set', () => {
    const r = {
      scores: Float32Array.from([0.4, 0.4, 0.2, 0.1, 0.45, 0.45]),
      labels: Uint8Array.from([0, 1]),
      numClasses: 3,
    };
    expect(Array.from(argmaxPredictions(r))).toEqual([0, 1]);
    const empty = multiClassMetrics({ scores: new Float32Array(0), labels: new Uint8Array(0), numClasses: 3 });
    expect(empty.accuracy).toBeNaN();
    expect(empty.macro.f1).toBeNaN();
  });

  it('rejects scores that do not fit the images and classes', () => {
    expect(() => multiClassMetrics({ scores: new Float32Array(5), labels: new Uint8Array(2), numClasses: 3 })).toThrow(
      RangeError,
    );
  });
});

describe('confusionMatrix', () => {
  it('puts true classes in rows and predictions in columns', () => {
    // (true, predicted): (0,1) (1,1) (2,0) (2,2) (0,1)
    expect(confusionMatrix([1, 1, 0, 2, 1], [0, 1, 2, 2, 0], 3)).toEqual([
      [0, 2, 0],
      [0, 1, 0],
      [1, 0, 1],
    ]);
  });

  it('rejects classes out of range', () => {
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(RangeError);
    expect(() => confusionMatrix([0, 1], [0, 5], 3)).toThrow(RangeError);
  });
});
