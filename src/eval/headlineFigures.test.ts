import { describe, expect, it } from 'vitest';
import type { ThresholdRule } from '../core/types';
import { headlineFigures } from './headlineFigures';
import { buildReport } from './report';

/** Scores that rank well but sit above 0.5 for some negatives: the threshold rule and 0.5 disagree. */
function split(n: number, seed: number, width: 1 | 3) {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % (width === 1 ? 2 : 3));
  const scores = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    if (width === 1) scores[i] = Math.min(1, 0.35 + 0.4 * labels[i] + 0.3 * random());
    else {
      const raw = [0, 1, 2].map((c) => (c === labels[i] ? 1.2 : 0) + random());
      const sum = raw.reduce((a, b) => a + b, 0);
      raw.forEach((v, c) => (scores[i * 3 + c] = v / sum));
    }
  }
  return { scores, labels };
}

const RULES: ThresholdRule[] = ['sensitivity', 'youden', 'fixed'];

describe('headlineFigures', () => {
  it.each(RULES)("are the Results' test figures at the operating point of the %s rule", (thresholdRule) => {
    const kept = { validation: split(60, 1, 1), test: split(80, 2, 1) };
    const settings = {
      thresholdRule,
      targetSensitivity: 95,
      temperatureScaling: false,
      testTimeAugmentation: 'off' as const,
    };
    const report = buildReport(kept.validation, kept.test, {
      numClasses: 2,
      positiveClass: 1,
      settings,
      resamples: 10,
    });
    const figures = headlineFigures(kept, ['NORMAL', 'PNEUMONIA'], settings);
    expect(figures).toEqual({
      accuracy: report.test!.metrics.accuracy,
      auc: expect.closeTo(report.test!.metrics.auc, 12) as number,
      threshold: report.operatingPoint.threshold,
    });
    if (thresholdRule !== 'fixed') expect(figures!.threshold).not.toBe(0.5);
  });

  it('with the classes the other way round (scores of NORMAL), the positive class is still PNEUMONIA', () => {
    const kept = { validation: split(60, 3, 1), test: split(80, 4, 1) };
    const settings = { thresholdRule: 'youden' as const, targetSensitivity: 95 };
    const flipped = headlineFigures(
      {
        validation: {
          scores: kept.validation.scores.map((p) => 1 - p),
          labels: kept.validation.labels.map((l) => 1 - l),
        },
        test: { scores: kept.test.scores.map((p) => 1 - p), labels: kept.test.labels.map((l) => 1 - l) },
      },
      ['PNEUMONIA', 'NORMAL'],
      settings,
    );
    const straight = headlineFigures(kept, ['NORMAL', 'PNEUMONIA'], settings);
    expect(flipped!.accuracy).toBe(straight!.accuracy);
    expect(flipped!.auc).toBeCloseTo(straight!.auc, 12);
  });

  it('without a test split, the threshold chosen on validation is applied to validation', () => {
    const kept = { validation: split(60, 5, 1), test: null };
    const settings = { thresholdRule: 'youden' as const, targetSensitivity: 95 };
    const report = buildReport(kept.validation, null, {
      numClasses: 2,
      positiveClass: 1,
      settings: { ...settings, temperatureScaling: false, testTimeAugmentation: 'off' },
      resamples: 10,
    });
    expect(headlineFigures(kept, ['NORMAL', 'PNEUMONIA'], settings)).toMatchObject({
      accuracy: report.validation.metrics.accuracy,
      threshold: report.operatingPoint.threshold,
    });
  });

  it('with three classes, accuracy is the most probable class’s and there is no threshold', () => {
    const kept = { validation: split(60, 6, 3), test: split(90, 7, 3) };
    const settings = { thresholdRule: 'youden' as const, targetSensitivity: 95 };
    const report = buildReport(kept.validation, kept.test, {
      numClasses: 3,
      positiveClass: 1,
      settings: { ...settings, temperatureScaling: false, testTimeAugmentation: 'off' },
      resamples: 10,
    });
    const figures = headlineFigures(kept, ['BACTERIA', 'NORMAL', 'VIRUS'], settings);
    expect(figures).toMatchObject({ accuracy: report.test!.metrics.accuracy, threshold: null });
    expect(figures!.accuracy).toBeGreaterThan(0.5);
  });

  it('are null for a run that kept no scores or evaluated no images', () => {
    const settings = { thresholdRule: 'youden' as const, targetSensitivity: 95 };
    expect(headlineFigures(null, ['NORMAL', 'PNEUMONIA'], settings)).toBeNull();
    const empty = { scores: new Float32Array(0), labels: new Uint8Array(0) };
    expect(headlineFigures({ validation: empty, test: null }, ['NORMAL', 'PNEUMONIA'], settings)).toBeNull();
  });
});
