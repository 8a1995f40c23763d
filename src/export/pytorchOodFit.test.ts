/**
 * The PyTorch bundle with the machine's PyTorch (skipped without it; the fixture is pytorchFixture.testutil.ts).
 * `train.py` fits the unlike-training detector as the page: the one-layer and the feature-ensemble methods, the same
 * layers, the image's detail, means, precisions, shrinkages, scales, cut and scores.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import { OOD_LAYER_CHOICES } from '../core/settingChoices';
import type { FeatureEnsembleOodDetector, OodFeatureLayer, OodPooling, PenultimateOodDetector } from '../core/types';
import { IMAGE_DETAIL_LAYER } from '../core/types';
import { DETAIL_EPSILON, DETAIL_OCTAVES, MIN_DETAIL_SIZE } from '../core/imageDetailSpec';
import { featureEnsembleScores, fitFeatureEnsembleDetector } from '../eval/featureEnsemble';
import { fitOodDetector } from '../eval/outOfDistribution';
import { checkOodDetector } from '../eval/oodDetectorCheck';
import { OOD_LAYERS_WITH_DETAIL } from '../model/features';
import { imageDetail } from '../model/imageDetail';
import { hasTorch, SIZE, TOLERANCE, trainPy, useBundle } from './pytorchFixture.testutil';
import {
  PAGE_DETAIL_OOD_LAYERS,
  PAGE_OOD_LAYERS,
  maxDifference,
  relativeDifference,
  torchOodLayers,
} from './pytorchParity.testutil';

describe.skipIf(!hasTorch)('the PyTorch bundle with PyTorch: fitting the unlike-training detector', () => {
  const bundle = useBundle();

  it('fits the out-of-distribution detector as the page: the same means, precision, shrinkage and cut', () => {
    // ReLU-like features (a third are 0, one unit dead), fewer images than twice the features: shrinkage matters.
    const random = mulberry32(5);
    const p = 64;
    const features = (n: number) =>
      Float32Array.from({ length: n * p }, (_, i) => (i % p === 7 ? 0 : Math.max(0, random() * 3 - 1 + (i % 5) * 0.1)));
    const train = features(100);
    const labels = Uint8Array.from({ length: 100 }, (_, i) => i % 2);
    const validation = features(30);
    const page = fitOodDetector({ features: train, labels }, validation, {
      featureSize: p,
      numClasses: 2,
      featureLayer: 'dense_1',
    }).detector;
    const inputs = join(bundle.root, 'ood-inputs.json');
    writeFileSync(
      inputs,
      JSON.stringify({ train: Array.from(train), labels: Array.from(labels), validation: Array.from(validation) }),
    );
    const script = [
      'd = json.load(open(sys.argv[1]))',
      `t = np.array(d['train'], dtype=np.float32).reshape(-1, ${p})`,
      `v = np.array(d['validation'], dtype=np.float32).reshape(-1, ${p})`,
      "print(json.dumps(ood.fit_ood_detector(t, d['labels'], v, 2)))",
    ];
    const torch = JSON.parse(trainPy(script, inputs)) as PenultimateOodDetector;
    expect(torch.shrinkage).toBeGreaterThan(0);
    expect(Math.abs(torch.shrinkage - page.shrinkage)).toBeLessThan(1e-9);
    expect(maxDifference(torch.classMeans, page.classMeans)).toBeLessThan(1e-9);
    const scale = Math.max(...page.precision.flat().map(Math.abs));
    expect(maxDifference(torch.precision, page.precision) / scale).toBeLessThan(1e-6);
    expect(Math.abs(torch.threshold - page.threshold) / page.threshold).toBeLessThan(1e-6);
    expect(checkOodDetector(torch, { featureSize: p, numClasses: 2 })).toMatchObject({
      trainImages: 100,
      validationImages: 30,
    });
  });

  it("train.py's OOD_LAYERS are the page's (src/model/features.ts)", () => {
    expect(torchOodLayers()).toEqual(PAGE_OOD_LAYERS);
  });

  it("train.py's image-detail member and its `ood` choices are the page's (model/features.ts, imageDetail.ts)", () => {
    const torch = JSON.parse(
      trainPy([
        'print(json.dumps({"detail": ood.IMAGE_DETAIL_LAYER, "choices": ood.OOD_CHOICES, "constants": [',
        '    ood.DETAIL_OCTAVES, ood.MIN_DETAIL_SIZE, ood.DETAIL_EPSILON]}))',
      ]),
    ) as { detail: [string, OodPooling]; choices: Record<string, [string, OodPooling][]>; constants: number[] };
    const pageDetail = OOD_LAYERS_WITH_DETAIL.at(-1)!;
    expect(torch.detail).toEqual([pageDetail.name, pageDetail.pooling]);
    expect(torch.detail).toEqual([IMAGE_DETAIL_LAYER, 'detail-octaves']);
    expect(torch.constants).toEqual([DETAIL_OCTAVES, MIN_DETAIL_SIZE, DETAIL_EPSILON]);
    expect(torch.choices).toEqual({
      detail: PAGE_DETAIL_OOD_LAYERS,
      layers: PAGE_OOD_LAYERS,
      last: [['dense_1', 'none']],
    });
    // Every value of the page's setting, and no other.
    expect(Object.keys(torch.choices).sort()).toEqual([...OOD_LAYER_CHOICES].sort());
  });

  it("computes the image's detail as the page (model/imageDetail.ts): the same 4 numbers an image", () => {
    // Noise, a sawtooth, a flat image (the epsilon) and a sharp edge beside a gentle slope; odd sides (the last row
    // or column dropped at each halving), the smallest size, non-square, and three channels (averaged first). Last,
    // a plane (its Laplacian is 0 but for float32 rounding).
    const random = mulberry32(17);
    const shapes: [number, number, number, number][] = [
      [3, SIZE, SIZE, 1],
      [2, MIN_DETAIL_SIZE, MIN_DETAIL_SIZE, 1],
      [2, 57, 33, 1],
      [2, 31, 45, 3],
      [1, MIN_DETAIL_SIZE, MIN_DETAIL_SIZE, 1],
    ];
    const batches = shapes.map(([n, h, w, c], b) =>
      Array.from({ length: n * h * w * c }, (_, i) => {
        const image = Math.floor(i / (h * w * c));
        const y = Math.floor(i / (w * c)) % h;
        const x = Math.floor(i / c) % w;
        if (b === shapes.length - 1) return (x * 7 + y * 3) / 255;
        if (image === 0) return Math.floor(random() * 256) / 255;
        if (image === 1 && n > 2) return 0.5;
        return image === 1 ? ((x * 29 + y * 13) % 256) / 255 : x > w / 2 ? 0.9 : 0.1 + 0.002 * y;
      }),
    );
    const inputs = join(bundle.root, 'detail-inputs.json');
    writeFileSync(inputs, JSON.stringify(batches.map((values, i) => ({ values, shape: shapes[i] }))));
    const script = [
      'out = []',
      'for b in json.load(open(sys.argv[1])):',
      "    x = torch.tensor(b['values'], dtype=torch.float32).view(*b['shape']).permute(0, 3, 1, 2)",
      '    out.append(ood.image_detail(x).tolist())',
      'print(json.dumps(out))',
    ];
    const torch = JSON.parse(trainPy(script, inputs)) as number[][][];
    const pages = batches.map((values, i) => tf.tidy(() => imageDetail(tf.tensor4d(values, shapes[i])).arraySync()));
    pages.forEach((page) => expect(page.map((row) => row.length)).toEqual(page.map(() => DETAIL_OCTAVES)));
    const differences = pages.map((page, i) => maxDifference(torch[i], page));
    console.log(`image detail, PyTorch vs the page: max |difference| ${differences.map((d) => d.toExponential(1))}`);
    for (const difference of differences.slice(0, -1)) expect(difference).toBeLessThan(TOLERANCE);
    // A flat image has no detail: ln(1e-4) at every scale.
    for (const value of torch[0][1]) expect(value).toBeCloseTo(Math.log(DETAIL_EPSILON), 5);
    // A plane: its mean |Laplacian| is float32 rounding (about 1e-8, summed in another order here than in tfjs),
    // which ln(m + 1e-4) magnifies up to 1e4 times: near ln(1e-4) on both sides, agreeing to about 1e-3 only.
    for (const value of [...torch.at(-1)!.flat(), ...pages.at(-1)!.flat()])
      expect(Math.abs(value - Math.log(DETAIL_EPSILON))).toBeLessThan(2e-3);
    expect(differences.at(-1)).toBeLessThan(2e-3);
  });

  it('fits the feature-ensemble detector as the page: the same means, precisions, shrinkages, scales, cut, scores', () => {
    // Three layers of ReLU-like features on different scales (a dead unit, fewer images than twice the features).
    const random = mulberry32(8);
    const layers: OodFeatureLayer[] = [
      { name: 'max_pooling2d_1', size: 6, pooling: 'spatial-mean' },
      { name: 'max_pooling2d_3', size: 9, pooling: 'spatial-mean' },
      { name: 'dense_1', size: 12, pooling: 'none' },
    ];
    const width = 27;
    const features = (n: number, shift = 0) =>
      Float32Array.from({ length: n * width }, (_, i) => {
        const column = i % width;
        const scale = column < 6 ? 0.05 : column < 15 ? 1 : 7;
        return column === 20 ? 0 : Math.max(0, (random() * 3 - 1 + (column % 5) * 0.1 + shift) * scale);
      });
    const train = features(40);
    const labels = Uint8Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const validation = features(15);
    const unseen = features(10, 0.5);
    const inputs = join(bundle.root, 'ensemble-inputs.json');
    writeFileSync(
      inputs,
      JSON.stringify({
        train: Array.from(train),
        labels: Array.from(labels),
        validation: Array.from(validation),
        unseen: Array.from(unseen),
        layers: layers.map((l) => [l.name, l.pooling, l.size]),
      }),
    );
    const script = [
      'd = json.load(open(sys.argv[1]))',
      'rows = lambda key: np.array(d[key], dtype=np.float32).reshape(-1, ' + width + ')',
      'out = []',
      // With validation, and without (the scales and the cut then come from the training images).
      "for v in (rows('validation'), rows('validation')[:0]):",
      "    detector = ood.fit_feature_ensemble_detector(rows('train'), d['labels'], v, 2, d['layers'])",
      "    out.append({'detector': detector, 'scores': ood.ood_scores(detector, rows('unseen')).tolist()})",
      'print(json.dumps(out))',
    ];
    const torch = JSON.parse(trainPy(script, inputs)) as {
      detector: FeatureEnsembleOodDetector;
      scores: number[];
    }[];
    const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    [validation, new Float32Array(0)].forEach((validationFeatures, i) => {
      const page = fitFeatureEnsembleDetector({ features: train, labels }, validationFeatures, {
        layers,
        numClasses: 2,
      });
      const { detector, scores } = torch[i];
      expect(detector).toMatchObject({
        method: 'mahalanobis-feature-ensemble',
        quantile: 0.95,
        trainImages: 40,
        validationImages: i === 0 ? 15 : 0,
      });
      expect(detector.layers).toHaveLength(3);
      detector.layers.forEach((layer, l) => {
        const expected = page.detector.layers[l];
        expect([layer.featureLayer, layer.pooling]).toEqual([expected.featureLayer, expected.pooling]);
        expect(layer.shrinkage).toBeGreaterThan(0);
        expect(Math.abs(layer.shrinkage - expected.shrinkage)).toBeLessThan(1e-9);
        const meanScale = Math.max(...expected.classMeans.flat().map(Math.abs));
        expect(maxDifference(layer.classMeans, expected.classMeans) / meanScale).toBeLessThan(1e-6);
        const precisionScale = Math.max(...expected.precision.flat().map(Math.abs));
        expect(maxDifference(layer.precision, expected.precision) / precisionScale).toBeLessThan(1e-6);
        expect(relative(layer.scale, expected.scale)).toBeLessThan(1e-6);
      });
      // The layers' units differ (features 0.05 to 7 apart): the scales are what make them count alike.
      expect(
        Math.max(...detector.layers.map((l) => l.scale)) / Math.min(...detector.layers.map((l) => l.scale)),
      ).not.toBeCloseTo(1, 1);
      expect(relative(detector.threshold, page.detector.threshold)).toBeLessThan(1e-6);
      const pageScores = featureEnsembleScores(page.detector, unseen);
      expect(relativeDifference(scores, pageScores)).toBeLessThan(1e-6);
      expect(scores.map((s) => s > detector.threshold)).toEqual(
        Array.from(pageScores, (s) => s > page.detector.threshold),
      );
      expect(checkOodDetector(detector, { numClasses: 2 })).toMatchObject({ validationImages: i === 0 ? 15 : 0 });
    });
  });
});
