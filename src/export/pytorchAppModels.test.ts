/**
 * The PyTorch bundle with the machine's PyTorch (skipped without it; the fixture is pytorchFixture.testutil.ts). The
 * app's models, as the page downloads them, load in PyTorch, which predicts, pools features and judges unlike-training
 * images as tfjs does; `--init --epochs 0` scores the test split as the page would.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IntensityNormalisation, ModelName, OodDetector, OodLayerChoice } from '../core/types';
import { unlikeReasonOf } from '../eval/oodReasons';
import { countUnlike, judge, oodFeatureLayers } from '../eval/outOfDistribution';
import { disposeCnn } from '../model/cnn';
import { OOD_LAYERS_WITH_DETAIL } from '../model/features';
import { hasTorch, PYTHON, rows, run, SIZE, TOLERANCE, torchPredict, useBundle } from './pytorchFixture.testutil';
import { appModelZip } from './pytorchAppModel.testutil';
import {
  PAGE_DETAIL_OOD_LAYERS,
  PAGE_OOD_LAYERS,
  distanceDifference,
  expectPageReasons,
  maxDifference,
  pageFeatureRows,
  relativeDifference,
  tfjsOodLayers,
  tfjsOodRows,
  tfjsPredict,
  torchOodLayers,
  torchOodRows,
  unlikeMostly,
} from './pytorchParity.testutil';

describe.skipIf(!hasTorch)("the PyTorch bundle with PyTorch: the app's models in PyTorch", () => {
  const bundle = useBundle();

  // `ood`: the page's setting the model's detector was fitted under: the feature ensemble with the image's detail
  // (`detail`, now the default), without it (`layers`, models saved before the detail), or the one-layer method
  // (`last`, what models saved before the feature ensemble carry).
  const cases: { model: ModelName; numClasses: number; norm: IntensityNormalisation; ood: OodLayerChoice }[] = [
    { model: 'tutorial', numClasses: 2, norm: 'none', ood: 'last' },
    { model: 'batchnorm', numClasses: 2, norm: 'none', ood: 'detail' },
    { model: 'batchnorm', numClasses: 3, norm: 'none', ood: 'last' },
    { model: 'batchnorm', numClasses: 2, norm: 'per-image', ood: 'detail' },
    { model: 'tutorial', numClasses: 3, norm: 'per-image', ood: 'layers' },
  ];
  it.each(cases)(
    "loads the app's $model model ($numClasses classes, intensity normalisation $norm, $ood) in PyTorch, which predicts and judges as tfjs does",
    async ({ model: name, numClasses, norm, ood }) => {
      const zip = join(bundle.root, `app-${name}-${numClasses}-${norm}.zip`);
      const model = await appModelZip(name, numClasses, zip, norm, ood);

      const images = rows.filter((_, i) => i % 3 === 0).map((row) => join(bundle.dataDir, row.path));
      const torch = torchPredict(zip, images);
      const fromTfjs = tfjsPredict(
        model,
        torch.map((t) => t.pixels),
        SIZE,
      );
      const difference = maxDifference(
        fromTfjs,
        torch.map((t) => t.probabilities),
      );
      console.log(
        `app's ${name} (${numClasses} classes) in PyTorch: max |difference| ${difference.toExponential(2)} on ${images.length} images`,
      );
      expect(difference).toBeLessThan(TOLERANCE);
      const detector = JSON.parse(readFileSync(zip + '.detector.json', 'utf8')) as OodDetector;
      expect(detector.method).toBe(ood === 'last' ? 'mahalanobis-tied-covariance' : 'mahalanobis-feature-ensemble');
      expect(oodFeatureLayers(detector).map((l) => [l.name, l.pooling])).toEqual(
        ood === 'detail' ? PAGE_DETAIL_OOD_LAYERS : ood === 'layers' ? PAGE_OOD_LAYERS : [['dense_1', 'none']],
      );
      const oodDifference = distanceDifference(model, detector, torch);
      console.log(
        `app's ${name} (${numClasses} classes), ${ood}: scores, max relative difference ${oodDifference.toExponential(2)}`,
      );
      expect(oodDifference).toBeLessThan(1e-3);
      expect(torch.every((t) => t.unlikeTrainingData === t.oodDistance! > detector.threshold)).toBe(true);
      // Why each flagged image is (`unlikeWhy`): the page's reason for the same pixels, from a feature ensemble only.
      const explained = expectPageReasons(
        torch,
        judge(
          detector,
          tfjsOodRows(
            model,
            torch.map((t) => t.pixels),
            SIZE,
            oodFeatureLayers(detector),
          ),
        ),
        ood !== 'last',
      );
      const flagged = torch.filter((t) => t.unlikeTrainingData).length;
      console.log(`app's ${name} (${numClasses} classes), ${ood}: ${explained} of ${flagged} flagged images explained`);
      // These images are not the ones the detector was fitted on (appModelZip: generated ones): a feature ensemble
      // flags some, so there are reasons to compare.
      if (ood !== 'last') expect(explained).toBeGreaterThan(0);
      // Not a constant: the comparison means something.
      const spread = Math.max(...fromTfjs.map((p) => p[0])) - Math.min(...fromTfjs.map((p) => p[0]));
      expect(spread).toBeGreaterThan(1e-3);

      // The features themselves: every layer of train.py's OOD_LAYERS pooled as the page pools it, side by side.
      const pixels = torch.map((t) => t.pixels);
      const featureDifference = relativeDifference(
        torchOodRows(zip, pixels),
        tfjsOodRows(model, pixels, SIZE, tfjsOodLayers(model, torchOodLayers())),
      );
      console.log(
        `app's ${name} (${numClasses} classes): pooled features, max relative difference ${featureDifference.toExponential(2)}`,
      );
      expect(featureDifference).toBeLessThan(TOLERANCE);
      // And with the image's detail, as the page's featuresAndOutputs gives them in one pass: the detail read from
      // the input before the model's per-image standardisation, in PyTorch as on the page.
      const detailDifference = relativeDifference(
        torchOodRows(zip, pixels, PAGE_DETAIL_OOD_LAYERS),
        pageFeatureRows(model, pixels, OOD_LAYERS_WITH_DETAIL),
      );
      expect(detailDifference).toBeLessThan(TOLERANCE);

      if (numClasses === 2 && norm === 'none') {
        // --init, evaluation only, through the training script's own data path: its test predictions are tfjs'.
        const out = join(bundle.root, `eval-${name}`);
        const log = run(
          PYTHON,
          ['train.py', '--data', bundle.dataDir, '--init', zip, '--epochs', '0', '--out', out],
          bundle.bundleDir,
        );
        expect(log).toContain('test (8 images)');
        expect(existsSync(join(out, 'model.zip'))).toBe(false);
        const lines = readFileSync(join(out, 'test_predictions.csv'), 'utf8').trim().split('\n');
        // A feature ensemble adds why a flagged image is, and with the detail member each image's detail ratio.
        const why = ood === 'last' ? '' : ood === 'layers' ? ',unlike_mostly' : ',unlike_mostly,detail_ratio';
        expect(lines[0]).toBe(`path,class,group,p_PNEUMONIA,ood_distance,unlike_training_data${why}`);
        const scored = lines.slice(1).map((line) => line.split(','));
        const testTorch = torchPredict(
          zip,
          scored.map(([path]) => join(bundle.dataDir, path)),
        );
        const testTfjs = tfjsPredict(
          model,
          testTorch.map((t) => t.pixels),
          SIZE,
        );
        const evalDifference = maxDifference(
          testTfjs,
          scored.map((fields) => [Number(fields[3])]),
        );
        console.log(
          `--init ${name} --epochs 0: test predictions vs tfjs, max |difference| ${evalDifference.toExponential(2)}`,
        );
        expect(evalDifference).toBeLessThan(TOLERANCE);
        // It judges with the detector the page put in metadata.json, as the page does.
        const detector = JSON.parse(readFileSync(zip + '.detector.json', 'utf8')) as OodDetector;
        const page = judge(
          detector,
          tfjsOodRows(
            model,
            testTorch.map((t) => t.pixels),
            SIZE,
            oodFeatureLayers(detector),
          ),
        );
        scored.forEach((fields, i) => {
          expect(Math.abs(Number(fields[4]) - page.distances[i]) / Math.max(1, page.distances[i])).toBeLessThan(1e-3);
          expect(fields[5]).toBe(page.distances[i] > detector.threshold ? 'yes' : 'no');
          if (ood !== 'last') expect(fields[6]).toBe(fields[5] === 'yes' ? unlikeMostly(unlikeReasonOf(page, i)) : '');
          if (ood === 'detail') expect(Math.abs(Number(fields[7]) / page.detailRatio![i] - 1)).toBeLessThan(1e-3);
          expect(fields).toHaveLength(ood === 'last' ? 6 : ood === 'layers' ? 7 : 8);
        });
        const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
        expect(metrics.outOfDistribution.test).toMatchObject({ images: 8, flagged: countUnlike(page) });
        expect(distanceDifference(model, detector, testTorch)).toBeLessThan(1e-3);
      }
      disposeCnn(model);
    },
    90_000,
  );
});
