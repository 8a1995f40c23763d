/** The Keras HDF5 download carries the unlike-training detector: a numpy reader of the file judges as the page. */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelMetadata, ModelName } from '../core/types';
import { disposeCnn } from '../model/cnn';
import { exportLayersModel } from '../model/layersFormat';
import { buildModel } from '../model/models';
import { pooledFeatures, stackedOf } from '../model/exportChecks.testutil';
import { OOD_LAYERS_WITH_DETAIL } from '../model/features';
import { fitFeatureEnsembleDetector } from '../eval/featureEnsemble';
import { judge } from '../eval/outOfDistribution';
import { METADATA_ATTRIBUTE, layersModelToKerasH5 } from './keras';
import { CHECKER, hasPython, metadataFor, perturbWeights, PYTHON } from './kerasExport.testutil';

let tmp = '';

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = mkdtempSync(join(tmpdir(), 'keras-detector-'));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!hasPython)('Keras HDF5 with a feature-ensemble detector', () => {
  it.each<[ModelName, number]>([
    ['batchnorm', 1],
    ['tutorial', 2],
  ])(
    "lets a numpy reader of the file compute the page's features, scores and flags from its layers (%s, %i member(s))",
    async (name, members) => {
      // At 48 px the four blocks' maps are 23, 11, 5 and 2 pixels a side: every mean is over several pixels.
      const size = 48;
      const options = { imageSize: size, numClasses: 2, learningRate: 1e-3 };
      const build = (seed: number) => {
        const model = buildModel(name, { ...options, seed });
        perturbWeights(model, 1000 * seed);
        return model;
      };
      const model = members === 1 ? build(7) : stackedOf(name, options, members, (k) => build(70 + k));
      const x = tf.randomUniform([30, size, size, 1], 0, 1, 'float32', 13) as tf.Tensor4D;
      // The default detector: the five layers and the input's detail.
      const { rows, sizes } = pooledFeatures(model, OOD_LAYERS_WITH_DETAIL, x);
      const width = rows.length / 30;
      const { detector } = fitFeatureEnsembleDetector(
        { features: rows.subarray(0, 20 * width), labels: new Uint8Array(20).map((_, i) => i % 2) },
        rows.subarray(20 * width),
        { layers: OOD_LAYERS_WITH_DETAIL.map((l, i) => ({ ...l, size: sizes[i] })), numClasses: 2 },
      );
      const metadata: ModelMetadata = {
        ...metadataFor(name, ['NORMAL', 'PNEUMONIA']),
        imageSize: size,
        ...(members > 1 ? { ensemble: { kind: 'snapshot' as const, members } } : {}),
        outOfDistribution: detector,
      };
      const exported = await exportLayersModel(model);
      const h5 = join(tmp, `ood-${name}-${members}.h5`);
      writeFileSync(h5, await layersModelToKerasH5(exported.modelJson, exported.weights, metadata));
      const imagesJson = join(tmp, `ood-images-${size}.json`);
      writeFileSync(imagesJson, JSON.stringify({ shape: x.shape, data: Array.from(x.dataSync()) }));
      tf.dispose(x);
      disposeCnn(model);
      const run = spawnSync(PYTHON, [CHECKER, h5, imagesJson], {
        encoding: 'utf8',
        timeout: 60_000,
        maxBuffer: 64 << 20,
      });
      expect(run.stderr).toBe('');
      const { root, ood } = JSON.parse(run.stdout) as {
        root: Record<string, string>;
        ood: { features: number[][]; scores: number[]; unlike: boolean[] };
      };
      expect(JSON.parse(root[METADATA_ATTRIBUTE]).outOfDistribution).toEqual(detector);
      const features = ood.features.flat();
      expect(features.length).toBe(rows.length);
      const diff = Math.max(...features.map((v, i) => Math.abs(v - rows[i]) / Math.max(1, Math.abs(rows[i]))));
      expect(diff, `max relative |numpy - tfjs| = ${diff}`).toBeLessThan(1e-4);
      const page = judge(detector, rows);
      ood.scores.forEach((score, i) =>
        expect(Math.abs(score - page.distances[i]) / Math.max(1, page.distances[i])).toBeLessThan(1e-3),
      );
      expect(ood.unlike).toEqual(Array.from(page.distances, (d) => d > page.threshold));
      expect(ood.unlike.filter((u) => u).length).toBeGreaterThan(0);
    },
  );
});
