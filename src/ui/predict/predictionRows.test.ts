import { describe, expect, it } from 'vitest';
import {
  ALL_ROWS,
  csvCell,
  decide,
  decisionOf,
  predictionRows,
  predictionsCsv,
  visibleRows,
  type RowFilter,
} from './predictionRows';

describe('Predict rows', () => {
  const names = ['b.png', 'a.png', 'c=1.png'];
  const rows = predictionRows(names, { scores: new Float32Array([0.2, 0.9, 0.5]) }, 2, {
    positiveClass: 1,
    threshold: 0.5,
  });

  it('give each image both probabilities and the class at the threshold (at least it: positive)', () => {
    expect(rows.map((r) => r.probabilities.map((p) => Number(p.toFixed(2))))).toEqual([
      [0.8, 0.2],
      [0.1, 0.9],
      [0.5, 0.5],
    ]);
    expect(rows.map((r) => r.predicted)).toEqual([0, 1, 1]);
    // A threshold on class 0 decides for class 0 when its probability reaches it.
    expect(decide([0.6, 0.4], { positiveClass: 0, threshold: 0.7 })).toBe(1);
    expect(decide([0.1, 0.3, 0.6], { positiveClass: 1, threshold: 0.9 })).toBe(2);
  });

  it('say which images are unlike the training data (above the cut), or nothing without a detector', () => {
    const judged = predictionRows(
      names,
      { scores: new Float32Array(3), ood: { distances: Float32Array.from([3, 9, 5]), threshold: 5 } },
      2,
      { positiveClass: 1, threshold: 0.5 },
    );
    expect(judged.map((r) => r.unlike)).toEqual([false, true, false]);
    expect(rows.map((r) => r.unlike)).toEqual([null, null, null]);
    // Without the score's parts (the last layer alone, a model from before them) nothing says why.
    expect(judged.map((r) => r.unlikeWhy)).toEqual([null, null, null]);
  });

  it('say why a flagged image is unlike, and the CSV carries the judgement and the reason', () => {
    const judged = predictionRows(
      names,
      {
        scores: new Float32Array(3),
        ood: {
          distances: Float32Array.from([3, 9, 12]),
          threshold: 5,
          layers: ['max_pooling2d_1', 'dense_1', 'image'],
          // Image 2 owes its score to its detail (0.25 times the training films'), image 3 to the early layer.
          parts: Float32Array.from([1, 1, 1, 1, 1, 7, 9, 2, 1]),
          detailRatio: Float32Array.from([1, 0.25, 1.1]),
        },
      },
      2,
      { positiveClass: 1, threshold: 0.5 },
    );
    expect(judged.map((r) => r.unlikeWhy)).toEqual([
      null,
      'Unlike the training data, most of all by less fine detail than the training films (0.25 times theirs): blurred, ' +
        'lower resolution or processed more softly: 78% of its score.',
      "Unlike the training data, most of all by the network's early layers (max_pooling2d_1: intensity and texture): 75% " +
        'of its score.',
    ]);
    const csv = predictionsCsv(judged, ['NORMAL', 'PNEUMONIA'], { positiveClass: 1, threshold: 0.5 }).split('\r\n');
    expect(csv[0]).toBe(
      'file,probability_NORMAL,probability_PNEUMONIA,predicted_class,threshold,unlike_training_data,unlike_why',
    );
    expect(csv[1]).toBe('b.png,1.000000,0.000000,NORMAL,0.5,no,');
    expect(csv[2]).toMatch(
      /^a\.png,1\.000000,0\.000000,NORMAL,0\.5,yes,"Unlike the training data, most of all by less fine/,
    );
  });

  it('sort by a class probability or by name, and filter by predicted class', () => {
    expect(visibleRows(rows, ALL_ROWS, { by: 'class', classIndex: 1 }).map((r) => r.name)).toEqual([
      'a.png',
      'c=1.png',
      'b.png',
    ]);
    expect(visibleRows(rows, ALL_ROWS, { by: 'name' }).map((r) => r.name)).toEqual(['a.png', 'b.png', 'c=1.png']);
    expect(visibleRows(rows, { only: 'class', classIndex: 0 }, { by: 'name' }).map((r) => r.name)).toEqual(['b.png']);
  });

  it('filter by what the detector judged: the images unlike the training data, or those like it', () => {
    const judged = rows.map((r, i) => ({ ...r, unlike: i === 1 }));
    const names = (filter: RowFilter) => visibleRows(judged, filter, { by: 'name' }).map((r) => r.name);
    expect(names({ only: 'unlike' })).toEqual(['a.png']);
    expect(names({ only: 'like' })).toEqual(['b.png', 'c=1.png']);
    // Not judged (a model without the statistics): neither filter keeps a row it cannot vouch for.
    expect(visibleRows(rows, { only: 'unlike' }, { by: 'name' })).toEqual([]);
    expect(visibleRows(rows, { only: 'like' }, { by: 'name' })).toEqual([]);
  });

  it('make a CSV with a row per shown image, quoting what needs it', () => {
    const csv = predictionsCsv(visibleRows(rows, ALL_ROWS, { by: 'name' }), ['NORMAL', 'PNEUMONIA'], {
      positiveClass: 1,
      threshold: 0.5,
    });
    expect(csv.split('\r\n')).toEqual([
      'file,probability_NORMAL,probability_PNEUMONIA,predicted_class,threshold',
      'a.png,0.100000,0.900000,PNEUMONIA,0.5',
      'b.png,0.800000,0.200000,NORMAL,0.5',
      'c=1.png,0.500000,0.500000,PNEUMONIA,0.5',
      '',
    ]);
    expect(csvCell('x,"y"')).toBe('"x,""y"""');
    expect(csvCell('=HYPERLINK()')).toBe("'=HYPERLINK()");
    expect(csvCell('-0.5')).toBe('-0.5');
  });
});

describe('the decision Predict uses', () => {
  const names = ['NORMAL', 'PNEUMONIA'];
  it('is the Results’ operating point when there are Results', () => {
    expect(
      decisionOf({ positiveClass: 0, threshold: 0.3 }, { threshold: 0.9, thresholdClass: 'PNEUMONIA' }, names, 1),
    ).toEqual({ positiveClass: 0, threshold: 0.3 });
  });
  it('is a loaded model’s metadata threshold and class without Results', () => {
    expect(decisionOf(null, { threshold: 0.9, thresholdClass: 'NORMAL' }, names, 1)).toEqual({
      positiveClass: 0,
      threshold: 0.9,
    });
  });
  it('is 0.5 on the default positive class when nothing says otherwise', () => {
    expect(decisionOf(null, null, names, 1)).toEqual({ positiveClass: 1, threshold: 0.5 });
    expect(decisionOf(null, { threshold: null, thresholdClass: 'OTHER' }, names, 1)).toEqual({
      positiveClass: 1,
      threshold: 0.5,
    });
  });
});
