import { describe, expect, it } from 'vitest';
import {
  classOfPath,
  decisionFigures,
  flagReasonOf,
  judgedImages,
  meanOverShifts,
  parsePredictionsCsv,
  type JudgedImage,
} from './shiftFigures';
import type { ShiftFigures } from './accuracyResult';

const classNames = ['NORMAL', 'PNEUMONIA'];
const image = (label: number, predicted: number, score: number, unlike: boolean | null): JudgedImage => ({
  label,
  predicted,
  score,
  unlike,
});

describe('decisions on a shifted set', () => {
  it("reads Predict's predictions.csv, quoted names included", () => {
    const csv = parsePredictionsCsv(
      'file,probability_NORMAL,probability_PNEUMONIA,predicted_class,threshold\r\n' +
        'blur-0000-a.png,0.900000,0.100000,NORMAL,0.3\r\n"b,1.jpeg",0.200000,0.800000,PNEUMONIA,0.3\r\n',
    );
    expect(csv.classNames).toEqual(classNames);
    expect(csv.threshold).toBe('0.3');
    expect(csv.rows).toEqual([
      { file: 'blur-0000-a.png', probabilities: [0.9, 0.1], predicted: 'NORMAL' },
      { file: 'b,1.jpeg', probabilities: [0.2, 0.8], predicted: 'PNEUMONIA' },
    ]);
    expect(() => parsePredictionsCsv('file,label\r\nx,NORMAL\r\n')).toThrow(/Not Predict's predictions.csv/);
    expect(() => parsePredictionsCsv('file,probability_A,predicted_class,threshold\r\nx,0.5\r\n')).toThrow(/2 cells/);
  });

  it('takes the class from the last folder that names one', () => {
    expect(classOfPath('chest_xray/train/NORMAL/IM-0117-0001.jpeg', classNames)).toBe(0);
    expect(classOfPath('chest_xray\\test\\PNEUMONIA\\person1_virus_6.jpeg', classNames)).toBe(1);
    expect(classOfPath('PNEUMONIA/NORMAL/x.jpeg', classNames)).toBe(0);
    // A file named like a class is no folder.
    expect(classOfPath('images/NORMAL', classNames)).toBe(-1);
    expect(classOfPath('x.png', classNames)).toBe(-1);
  });

  it('counts accuracy, sensitivity, specificity, AUC and the flagged and unflagged apart', () => {
    // Positive = 1. Three positives (two caught), five negatives (two called positive); the two flagged are wrong.
    const images = [
      image(1, 1, 0.9, false),
      image(1, 1, 0.7, false),
      image(1, 0, 0.2, true),
      image(0, 0, 0.1, false),
      image(0, 0, 0.3, false),
      image(0, 0, 0.25, false),
      image(0, 1, 0.8, true),
      image(0, 1, 0.6, false),
    ];
    const f = decisionFigures(images, 1);
    expect(f.images).toBe(8);
    expect(f.accuracy).toBeCloseTo(5 / 8);
    expect(f.sensitivity).toBeCloseTo(2 / 3);
    expect(f.specificity).toBeCloseTo(3 / 5);
    // Pairs with the positive above: 0.9 beats all 5 negatives, 0.7 four (not 0.8), 0.2 one (0.1): 10 of 15.
    expect(f.AUC).toBeCloseTo(10 / 15);
    expect(f.flagged).toBe(2);
    expect(f.flaggedAccuracy).toBe(0);
    expect(f.unflaggedAccuracy).toBeCloseTo(5 / 6);
  });

  it('gives NaN where a figure has nothing to count', () => {
    const onlyNormal = decisionFigures([image(0, 0, 0.1, null), image(0, 1, 0.9, null)], 1);
    expect(onlyNormal.specificity).toBe(0.5);
    expect(onlyNormal.sensitivity).toBeNaN();
    expect(onlyNormal.AUC).toBeNaN();
    // Not judged: no flag count, no split.
    expect(onlyNormal.flagged).toBeNaN();
    expect(onlyNormal.flaggedAccuracy).toBeNaN();
    expect(decisionFigures([image(1, 1, 0.9, false)], 1).flaggedAccuracy).toBeNaN();
  });

  it('matches the CSV to the flags and the archive paths, leaving out files of no class', () => {
    const csv = {
      classNames,
      rows: [
        { file: 'a.png', probabilities: [0.3, 0.7], predicted: 'PNEUMONIA' },
        { file: 'b.png', probabilities: [0.6, 0.4], predicted: 'NORMAL' },
        { file: 'c.png', probabilities: [0.6, 0.4], predicted: 'NORMAL' },
      ],
    };
    const paths = new Map([
      ['a.png', 'chest_xray/train/NORMAL/a.jpeg'],
      ['b.png', 'chest_xray/train/PNEUMONIA/b.jpeg'],
    ]);
    const flags = new Map([
      ['a.png', true],
      ['b.png', false],
    ]);
    expect(judgedImages(csv, flags, (f) => paths.get(f) ?? '', 1)).toEqual([
      { label: 0, predicted: 1, score: 0.7, unlike: true, reason: null },
      { label: 1, predicted: 0, score: 0.4, unlike: false, reason: null },
    ]);
    expect(judgedImages(csv, new Map(), (f) => paths.get(f) ?? '', 1)[0].unlike).toBeNull();
  });

  it('reads why the page flagged an image (unlike_why) and counts the flagged by reason', () => {
    const text =
      'file,probability_NORMAL,probability_PNEUMONIA,predicted_class,threshold,unlike_training_data,unlike_why\r\n' +
      'a.png,0.1,0.9,PNEUMONIA,0.5,yes,"Unlike the training data, most of all by less fine detail than the training ' +
      'films (0.31 times theirs): blurred, lower resolution or processed more softly: 87% of its score."\r\n' +
      'b.png,0.9,0.1,NORMAL,0.5,yes,"Unlike the training data, most of all by the network\'s early layers ' +
      '(max_pooling2d_1: intensity and texture): 60% of its score."\r\n' +
      'c.png,0.9,0.1,NORMAL,0.5,no,\r\n';
    const csv = parsePredictionsCsv(text);
    expect(csv.rows.map((r) => r.why?.slice(0, 40))).toEqual([
      'Unlike the training data, most of all by',
      'Unlike the training data, most of all by',
      '',
    ]);
    const flags = new Map([
      ['a.png', true],
      ['b.png', true],
      ['c.png', false],
    ]);
    const images = judgedImages(csv, flags, (f) => `x/NORMAL/${f}`, 1);
    expect(images.map((i) => i.reason)).toEqual(['softer', 'early', null]);
    expect(decisionFigures(images, 1).reasons).toEqual({ softer: 1, sharper: 0, early: 1, later: 0 });
    // Without the column (an older page, the one-layer detector): no reasons, and no counts.
    expect(
      decisionFigures(
        images.map((i) => ({ ...i, reason: null })),
        1,
      ).reasons,
    ).toBeUndefined();
    expect(flagReasonOf('most of all by more fine detail than the training films')).toBe('sharper');
    expect(flagReasonOf("most of all by the network's later layers (dense_1: shapes and content)")).toBe('later');
    expect(flagReasonOf('something else')).toBeNull();
  });

  it('averages over the shifts only when every one is there', () => {
    const f = (specificity: number | null) => ({ specificity }) as unknown as ShiftFigures;
    expect(meanOverShifts({ a: f(0.2), b: f(0.6), c: f(0.9) }, ['a', 'b'], 'specificity')).toBeCloseTo(0.4);
    expect(meanOverShifts({ a: f(0.2) }, ['a', 'b'], 'specificity')).toBeNaN();
    // A saved run keeps NaN as null.
    expect(meanOverShifts({ a: f(0.2), b: f(null) }, ['a', 'b'], 'specificity')).toBeNaN();
  });
});
