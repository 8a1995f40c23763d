import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import { countUnlike, fitOodDetector, judge, quantile } from './outOfDistribution';
import { fitClassGaussians, invertSymmetric, ledoitWolf, mahalanobisDistances } from './classGaussians';
import { checkOodDetector } from './oodDetectorCheck';

/** Standard normal draws (Box-Muller) from a seeded stream. */
function normals(count: number, seed: number): Float64Array {
  const random = mulberry32(seed);
  return Float64Array.from(
    { length: count },
    () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()),
  );
}

/** n rows of 3 features: class c has mean (3c, 0, 0); the shared covariance is diag(1, 4, 0.25) with a correlation. */
function threeFeatures(n: number, seed: number, shift = 0): { features: Float32Array; labels: Uint8Array } {
  const z = normals(n * 3, seed);
  const features = new Float32Array(n * 3);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    labels[i] = c;
    features[i * 3] = 3 * c + z[i * 3] + shift;
    features[i * 3 + 1] = 2 * z[i * 3 + 1] + z[i * 3];
    features[i * 3 + 2] = 0.5 * z[i * 3 + 2];
  }
  return { features, labels };
}

describe('Mahalanobis out-of-distribution detector', () => {
  it('inverts a symmetric positive-definite matrix', () => {
    const a = Float64Array.from([4, 2, 0.6, 2, 5, 1, 0.6, 1, 3]);
    const inverse = invertSymmetric(a, 3);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let sum = 0;
        for (let k = 0; k < 3; k++) sum += a[i * 3 + k] * inverse[k * 3 + j];
        expect(sum).toBeCloseTo(i === j ? 1 : 0, 10);
      }
    }
    expect(() => invertSymmetric(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/positive definite/);
  });

  it('shrinks little with many images and much with few (Ledoit-Wolf), and stays invertible with a dead feature', () => {
    const many = threeFeatures(20000, 1);
    const fitted = fitClassGaussians(many.features, many.labels, 3, 2);
    expect(fitted.shrinkage).toBeLessThan(0.01);
    // The true precision of diag-ish covariance [[1,1,0],[1,5,0],[0,0,0.25]]: its inverse.
    const truth = invertSymmetric(Float64Array.from([1, 1, 0, 1, 5, 0, 0, 0, 0.25]), 3);
    fitted.precision.forEach((v, i) => expect(v).toBeCloseTo(truth[i], 1));
    expect(fitted.classMeans[1][0] - fitted.classMeans[0][0]).toBeCloseTo(3, 1);

    // 4 images of 3 features: the sample covariance is nearly singular; shrinkage makes it well-conditioned.
    const few = ledoitWolf(Float64Array.from(normals(12, 3)), 4, 3);
    expect(few.shrinkage).toBeGreaterThan(0.05);
    // A feature that is 0 for every image (a dead ReLU unit) still leaves an invertible covariance.
    const dead = threeFeatures(50, 4);
    for (let i = 0; i < 50; i++) dead.features[i * 3 + 2] = 0;
    const withDead = fitClassGaussians(dead.features, dead.labels, 3, 2);
    expect(withDead.precision.every(Number.isFinite)).toBe(true);
  });

  it('measures the squared distance to the nearest class mean', () => {
    const gaussians = {
      featureSize: 2,
      classMeans: [Float64Array.from([0, 0]), Float64Array.from([10, 0])],
      precision: Float64Array.from([1, 0, 0, 4]),
    };
    const d = mahalanobisDistances(Float32Array.from([1, 1, 9, 0, 5, 0]), gaussians);
    expect(Array.from(d)).toEqual([5, 1, 25]);
  });

  it('takes quantiles as numpy does (linear between order statistics)', () => {
    expect(quantile([3, 1, 2, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 0], 0.95)).toBeCloseTo(9.5, 10);
    expect(quantile([7], 0.95)).toBe(7);
  });

  it('sets the cut so that about 5% of validation is flagged, and flags shifted features', () => {
    const train = threeFeatures(2000, 5);
    const validation = threeFeatures(1000, 6);
    const { detector, validation: judged } = fitOodDetector(train, validation.features, {
      featureSize: 3,
      numClasses: 2,
      featureLayer: 'dense_1',
    });
    expect(countUnlike(judged)).toBe(50);
    expect(detector.validationImages).toBe(1000);
    const fresh = judge(detector, threeFeatures(1000, 7).features);
    expect(countUnlike(fresh) / 1000).toBeGreaterThan(0.02);
    expect(countUnlike(fresh) / 1000).toBeLessThan(0.09);
    const shifted = judge(detector, threeFeatures(1000, 8, 8).features);
    expect(countUnlike(shifted) / 1000).toBeGreaterThan(0.95);
  });

  it('refuses damaged statistics as hostile input: not finite, wrong shapes, not symmetric, oversized', () => {
    const train = threeFeatures(200, 9);
    const { detector } = fitOodDetector(train, threeFeatures(100, 10).features, {
      featureSize: 3,
      numClasses: 2,
      featureLayer: 'dense_1',
    });
    const copy = () =>
      JSON.parse(JSON.stringify(detector)) as Record<string, unknown> & {
        precision: unknown[][];
        classMeans: unknown[][];
      };
    expect(checkOodDetector(copy(), { featureSize: 3, numClasses: 2 })).toEqual(detector);
    const cases: [string, (d: ReturnType<typeof copy>) => void, RegExp][] = [
      ['a string', (d) => (d.precision[0][1] = '1'), /not a finite number/],
      ['null (NaN in JSON)', (d) => (d.threshold = null), /threshold/],
      ['huge', (d) => (d.classMeans[0][0] = 1e300), /not a finite number/],
      ['ragged', (d) => d.precision[1].pop(), /not square/],
      ['asymmetric', (d) => (d.precision[0][1] = 123), /not symmetric/],
      ['mean length', (d) => d.classMeans[1].push(0), /3 numbers long/],
      ['method', (d) => (d.method = 'energy'), /unknown method/],
      ['layer name', (d) => (d.featureLayer = '<img src=x>'), /featureLayer/],
      ['quantile', (d) => (d.quantile = 2), /quantile/],
      ['too many rows', (d) => (d.precision = Array.from({ length: 5000 }, () => [1])), /list of rows/],
    ];
    for (const [, damage, message] of cases) {
      const d = copy();
      damage(d);
      expect(() => checkOodDetector(d)).toThrow(message);
    }
    expect(() => checkOodDetector(copy(), { featureSize: 64 })).toThrow(/for 3 features/);
    expect(() => checkOodDetector(copy(), { numClasses: 1 })).toThrow(/2 class means/);
    expect(() => checkOodDetector([1, 2])).toThrow(/not an object/);
  });
});
