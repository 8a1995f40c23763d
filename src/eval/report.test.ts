import { describe, expect, it } from 'vitest';
import { buildReport, shiftFindings } from './report';

const settings = {
  thresholdRule: 'youden' as const,
  targetSensitivity: 95,
  temperatureScaling: false,
  testTimeAugmentation: 'off' as const,
};

describe('buildReport', () => {
  it('chooses the threshold on validation and applies it to test', () => {
    const validation = {
      scores: Float32Array.from([0.1, 0.2, 0.5, 0.3, 0.4, 0.9]),
      labels: Uint8Array.from([0, 0, 0, 1, 1, 1]),
    };
    const test = {
      scores: Float32Array.from([0.25, 0.35, 0.5, 0.28]),
      labels: Uint8Array.from([0, 0, 1, 1]),
      groups: Uint32Array.from([1, 1, 2, 3]),
    };
    const report = buildReport(validation, test, { numClasses: 2, positiveClass: 1, settings, resamples: 100 });
    expect(report.operatingPoint.threshold).toBeCloseTo(0.3, 6);
    // Test at 0.3: 0.35 and 0.5 called positive, 0.25 and 0.28 negative -> tp 1, fp 1, tn 1, fn 1.
    expect(report.test?.metrics).toMatchObject({ tp: 1, fp: 1, tn: 1, fn: 1, accuracy: 0.5 });
    expect(report.test).toMatchObject({ unit: 'patients', units: 3, count: 4 });
    expect(report.validation).toMatchObject({ unit: 'images', units: 6 });
    expect(report.temperature).toBeNull();
  });

  it('fits a temperature on validation when asked', () => {
    const validation = { scores: new Float32Array(8).fill(0.9), labels: Uint8Array.from([1, 1, 1, 1, 1, 1, 0, 0]) };
    const report = buildReport(validation, null, {
      numClasses: 2,
      positiveClass: 1,
      settings: { ...settings, temperatureScaling: true, testTimeAugmentation: 'off' },
      resamples: 10,
    });
    expect(report.temperature).toBeCloseTo(2, 2);
    expect(report.validation.calibration.bins[7].count).toBe(8);
    expect(report.test).toBeNull();
    expect(report.shift).toEqual([]);
  });

  it('reports one class against the rest for more classes, with the most probable class for accuracy', () => {
    // Rows of 3 probabilities; labels 0, 1, 2, 2: the last is wrong by argmax (class 1 beats 2).
    const scores = Float32Array.from([0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.2, 0.7, 0.2, 0.5, 0.3]);
    const split = { scores, labels: Uint8Array.from([0, 1, 2, 2]) };
    const report = buildReport(split, split, {
      numClasses: 3,
      positiveClass: 2,
      settings: { ...settings, temperatureScaling: true, testTimeAugmentation: 'off' },
      resamples: 50,
    });
    expect(report.test?.metrics.accuracy).toBe(0.75);
    // Youden on P(class 2) = 0.1, 0.1, 0.7, 0.3: at 0.3 both class-2 images and no other are called class 2.
    expect(report.operatingPoint.threshold).toBeCloseTo(0.3, 6);
    expect(report.test?.metrics).toMatchObject({ tp: 2, fp: 0, tn: 2, fn: 0 });
    expect(report.temperature).toBeGreaterThan(0);
  });
});

describe('shiftFindings', () => {
  const split = (accuracy: number, interval: [number, number]) => ({
    metrics: { accuracy, sensitivity: 0.9, specificity: 0.9, auc: 0.9 } as never,
    intervals: {
      accuracy: interval,
      sensitivity: [0.8, 1],
      specificity: [0.8, 1],
      precision: [0.8, 1],
      auc: [0.8, 1],
    } as never,
  });
  it('flags figures whose intervals do not overlap, and only those', () => {
    expect(shiftFindings(split(0.96, [0.94, 0.98]), split(0.76, [0.72, 0.8]))).toEqual([
      { metric: 'accuracy', validation: 0.96, test: 0.76 },
    ]);
    expect(shiftFindings(split(0.96, [0.9, 0.99]), split(0.88, [0.84, 0.92]))).toEqual([]);
  });
});
