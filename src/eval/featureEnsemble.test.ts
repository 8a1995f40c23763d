import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import type { OodFeatureLayer } from '../core/types';
import { columnsOf, featureEnsembleScores, fitFeatureEnsembleDetector } from './featureEnsemble';
import { countUnlike, fitOodDetector, judge, oodFeatureLayers } from './outOfDistribution';
import { checkOodDetector } from './oodDetectorCheck';
import { quantile } from './oodArithmetic';

/**
 * n rows of two layers' features: an "early" layer of 3 (class-blind, texture-like) and a "late" layer of 2 (class c
 * has mean (4c, 0)). `earlyShift` moves the early layer only: what an image from another scanner does.
 */
function twoLayers(n: number, seed: number, earlyShift = 0): { features: Float32Array; labels: Uint8Array } {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const features = new Float32Array(n * 5);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    labels[i] = c;
    const a = normal();
    features.set([a + earlyShift, 0.5 * normal() + 0.5 * a, 10 + 3 * normal(), 4 * c + normal(), normal()], i * 5);
  }
  return { features, labels };
}

const LAYERS: OodFeatureLayer[] = [
  { name: 'max_pooling2d_1', size: 3, pooling: 'spatial-mean' },
  { name: 'dense_1', size: 2, pooling: 'none' },
];

describe('feature-ensemble out-of-distribution detector', () => {
  it('scores the sum of each layer’s distance over its validation median, with the cut at 95% of validation', () => {
    const train = twoLayers(2000, 1);
    const validation = twoLayers(800, 2);
    const { detector, validation: judged } = fitFeatureEnsembleDetector(train, validation.features, {
      layers: LAYERS,
      numClasses: 2,
    });
    expect(detector.layers.map((l) => [l.featureLayer, l.pooling, l.precision.length])).toEqual([
      ['max_pooling2d_1', 'spatial-mean', 3],
      ['dense_1', 'none', 2],
    ]);
    expect(countUnlike(judged)).toBe(40);
    // Each layer alone, fitted as the one-layer detector: the ensemble's score is their scaled sum.
    const single = LAYERS.map((layer, l) => {
      const start = l === 0 ? 0 : 3;
      const fitted = fitOodDetector(
        { features: columnsOf(train.features, 5, start, layer.size), labels: train.labels },
        columnsOf(validation.features, 5, start, layer.size),
        { featureSize: layer.size, numClasses: 2, featureLayer: layer.name },
      );
      expect(detector.layers[l].scale).toBeCloseTo(quantile(fitted.validation.distances, 0.5), 4);
      expect(detector.layers[l].shrinkage).toBeCloseTo(fitted.detector.shrinkage, 12);
      return fitted.validation.distances;
    });
    judged.distances.forEach((score, i) => {
      const expected = single[0][i] / detector.layers[0].scale + single[1][i] / detector.layers[1].scale;
      expect(score).toBeCloseTo(expected, 3);
    });
    expect(judge(detector, validation.features).distances).toEqual(judged.distances);
    expect(featureEnsembleScores(detector, validation.features)).toEqual(judged.distances);
    expect(oodFeatureLayers(detector)).toEqual(LAYERS);
  });

  it('flags a shift the last layer cannot see, which the one-layer detector on that layer misses', () => {
    const train = twoLayers(2000, 3);
    const validation = twoLayers(800, 4);
    const shifted = twoLayers(800, 5, 6);
    const { detector } = fitFeatureEnsembleDetector(train, validation.features, { layers: LAYERS, numClasses: 2 });
    expect(countUnlike(judge(detector, shifted.features)) / 800).toBeGreaterThan(0.9);
    expect(countUnlike(judge(detector, twoLayers(800, 6).features)) / 800).toBeLessThan(0.09);
    const lastOnly = fitOodDetector(
      { features: columnsOf(train.features, 5, 3, 2), labels: train.labels },
      columnsOf(validation.features, 5, 3, 2),
      { featureSize: 2, numClasses: 2, featureLayer: 'dense_1' },
    ).detector;
    expect(countUnlike(judge(lastOnly, columnsOf(shifted.features, 5, 3, 2))) / 800).toBeLessThan(0.09);
  });

  it('sets its scales and cut on the training images when there is no validation', () => {
    const train = twoLayers(300, 7);
    const { detector, validation } = fitFeatureEnsembleDetector(train, new Float32Array(0), {
      layers: LAYERS,
      numClasses: 2,
    });
    expect(validation.distances.length).toBe(0);
    expect(detector.validationImages).toBe(0);
    expect(countUnlike(judge(detector, train.features))).toBe(0);
    expect(detector.layers.every((l) => l.scale > 0)).toBe(true);
  });

  it('refuses damaged ensemble statistics as hostile input and checks the layers against the model', () => {
    const { detector } = fitFeatureEnsembleDetector(twoLayers(200, 8), twoLayers(100, 9).features, {
      layers: LAYERS,
      numClasses: 2,
    });
    type Layer = { precision: unknown[][]; classMeans: unknown[][]; scale: unknown; pooling: unknown };
    const copy = () =>
      JSON.parse(JSON.stringify(detector)) as Record<string, unknown> & { layers: (Layer & Record<string, unknown>)[] };
    const widths = (name: string, pooling: string) =>
      name === 'max_pooling2d_1' && pooling === 'spatial-mean'
        ? 3
        : name === 'dense_1' && pooling === 'none'
          ? 2
          : null;
    expect(checkOodDetector(copy(), { numClasses: 2, layerSize: widths })).toEqual(detector);
    const cases: [(d: ReturnType<typeof copy>) => void, RegExp][] = [
      [(d) => (d.layers[1].precision[0][1] = 9), /layer 2: precision is not symmetric/],
      [(d) => (d.layers[0].scale = 0), /layer 1: scale is not positive/],
      [(d) => (d.layers[0].scale = 'x'), /layer 1: scale is not a finite number/],
      [(d) => (d.layers[0].pooling = 'max'), /pooling is not known/],
      [(d) => (d.layers[0].featureLayer = '<b>x</b>'), /featureLayer is not a layer name/],
      [(d) => (d.layers = []), /layers is not a list/],
      [(d) => (d.layers = Array.from({ length: 17 }, () => d.layers[0])), /layers is not a list/],
      [(d) => (d.layers[1] = d.layers[0]), /named twice/],
      [(d) => (d.threshold = -1), /threshold is negative/],
      [(d) => d.layers[0].classMeans.push([1, 2, 3], [1, 2, 3]), /layer 1: 4 class means for 2 classes/],
    ];
    for (const [damage, message] of cases) {
      const d = copy();
      damage(d);
      expect(() => checkOodDetector(d, { numClasses: 2 })).toThrow(message);
    }
    expect(() => checkOodDetector(copy(), { layerSize: () => 7 })).toThrow(/for 3 features but layer/);
    expect(() => checkOodDetector(copy(), { layerSize: () => null })).toThrow(/has no layer max_pooling2d_1/);
  });
});
