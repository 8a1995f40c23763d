/**
 * The out-of-distribution warning end to end in the worker: a tiny model trained on the demo's synthetic chest
 * images flags validation at about the chosen rate, fresh images like its training ones rarely, and shifted
 * images (inverted, another scale, noise, images that are no chest at all) mostly; the detector travels in the
 * model's files, and predicting keeps the tensor count flat.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { mulberry32 } from '../core/random';
import type { ImageSet, ModelFiles, OodJudgement } from '../core/types';
import { countUnlike, fitOodDetector, judge } from '../eval/outOfDistribution';
import { loadModelFiles } from '../model/checkpoint';
import { fitFeatureEnsembleDetector } from '../eval/featureEnsemble';
import { unlikeReasonCounts } from '../eval/oodReasons';
import { OOD_LAYERS_WITH_DETAIL, oodLayersOf } from '../model/features';
import { evaluateInBatches } from './evaluate';
import { syntheticSet } from '../model/testImages.testutil';
import type { FromTrainer, Predictions, TrainerReplies, TrainerRequest } from './protocol';
import { Trainer } from './trainer';
import { WasmOnlyBackends } from '../backends/wasmOnly.testutil';
import { blurred, chestSet, lowResolution, mapped, noise, SIZE, smaller, zoomedIn } from './shiftedSets.testutil';
import { settings as trainSettings } from './trainerHarness.testutil';

const share = (judgement: OodJudgement) => countUnlike(judgement) / judgement.distances.length;

describe('out-of-distribution warning', () => {
  let trainer: Trainer;
  const replies: FromTrainer[] = [];
  let nextId = 1;
  const ask = async <K extends TrainerRequest['type']>(
    request: Extract<TrainerRequest, { type: K }>,
  ): Promise<TrainerReplies[K]> => {
    const id = nextId++;
    await trainer.handle({ id, request });
    const message = replies.find((m) => (m.type === 'reply' || m.type === 'error') && m.id === id);
    if (!message || message.type === 'error') throw new Error(message?.type === 'error' ? message.message : 'no reply');
    if (message.type !== 'reply') throw new Error('not a reply');
    return message.reply as unknown as TrainerReplies[K];
  };
  const predict = (pixels: Uint8Array) =>
    ask<'predict'>({
      type: 'predict',
      pixels: pixels.slice(),
      count: pixels.length / SIZE ** 2,
      size: SIZE,
      explain: false,
      threshold: null,
    }) as Promise<Predictions>;
  const restore = (files: ModelFiles): Promise<TrainerReplies['restoreModel']> =>
    ask({ type: 'restoreModel', files, model: 'tutorial', numClasses: 2, scores: null, epochs: 4 });
  let trained: TrainerReplies['train'];
  const test = chestSet('test', 40, 5);

  beforeAll(async () => {
    await tf.setBackend('cpu');
    trainer = new Trainer((m) => replies.push(m), { backends: new WasmOnlyBackends() });
    await ask({
      type: 'setData',
      splits: {
        classNames: ['NORMAL', 'PNEUMONIA'],
        train: chestSet('train', 100, 1),
        validation: chestSet('validation', 100, 1),
        test,
      },
    });
    const settings = trainSettings({ epochs: 4, batchSize: 16, patience: 0 });
    // tfjs draws weight initialisers and Dropout's masks from Math.random when unseeded (as the app trains): seeded
    // here, so this tiny model, and the shares below, are the same on every run (they spread widely across seeds).
    const random = vi.spyOn(Math, 'random').mockImplementation(mulberry32(2));
    try {
      trained = await ask<'train'>({ type: 'train', settings });
    } finally {
      random.mockRestore();
    }
  }, 240_000);

  it('flags about 5% of validation (the cut) and few fresh training-like images', async () => {
    const validation = trained.scores!.validation.ood!;
    expect(validation.distances).toHaveLength(200);
    expect(share(validation)).toBeGreaterThan(0.03);
    expect(share(validation)).toBeLessThanOrEqual(0.05);
    // Test images are drawn like the training ones: about the same share, far from all.
    expect(share(trained.scores!.test!.ood!)).toBeLessThan(0.15);
    expect(trained.test!.ood!.distances).toHaveLength(80);
    const fresh = await predict(chestSet('test', 50, 77).pixels);
    expect(share(fresh.ood!)).toBeLessThan(0.15);
  });

  it('flags shifted images: inverted, another scale, noise, and images that are no chest', async () => {
    const inverted = await predict(test.pixels.map((p) => 255 - p));
    expect(share(inverted.ood!)).toBeGreaterThan(0.8);
    // With Math.random seeded 1 to 5 in training, this tiny model's last-hidden-layer detector flagged: inverted 100%
    // every time, half-scale chests 91–100%, noise 45–100% (its weak spot), non-chest squares 95–100%
    // (docs/out-of-distribution.md). Seed 2 is the one run here; the feature ensemble is judged now.
    const scaled = await predict(smaller(test));
    expect(share(scaled.ood!)).toBeGreaterThan(0.8);
    const noisy = await predict(noise(40, 3));
    expect(share(noisy.ood!)).toBeGreaterThan(0.8);
    const squares = await predict(syntheticSet(40, SIZE, 2, 4).pixels);
    expect(share(squares.ood!)).toBeGreaterThan(0.8);
  });

  it('fits the feature ensemble on every OOD layer and the image detail by default', () => {
    const json = JSON.parse(trained.model!.modelJson) as {
      userDefinedMetadata: {
        outOfDistribution: { method: string; layers: { featureLayer: string; pooling: string }[] };
      };
    };
    const detector = json.userDefinedMetadata.outOfDistribution;
    expect(detector.method).toBe('mahalanobis-feature-ensemble');
    expect(detector.layers.map((l) => [l.featureLayer, l.pooling])).toEqual(
      OOD_LAYERS_WITH_DETAIL.map((l) => [l.name, l.pooling]),
    );
  });

  it('flags subtler acquisition shifts the last hidden layer alone misses, and still judges with an old detector', async () => {
    // The detector models carried before the feature ensemble: dense_1 alone, fitted on the same model and images.
    const model = await loadModelFiles(trained.model!);
    const dense = [{ name: 'dense_1', size: 64, pooling: 'none' as const }];
    const train = await evaluateInBatches(model, chestSet('train', 100, 1), 2, 16, dense);
    const validation = await evaluateInBatches(model, chestSet('validation', 100, 1), 2, 16, dense);
    const labels = chestSet('train', 100, 1).labels;
    const old = fitOodDetector({ features: train.features!, labels }, validation.features!, {
      featureSize: 64,
      numClasses: 2,
      featureLayer: 'dense_1',
    }).detector;
    const shifts: [string, Uint8Array][] = [
      ['gamma 0.5', mapped(test, (v) => v ** 0.5)],
      ['contrast x0.5', mapped(test, (v) => 0.5 + 0.5 * (v - 0.5))],
      ['central 60% zoomed in', zoomedIn(test, 0.6)],
    ];
    const ensembleShares: number[] = [];
    for (const [, pixels] of shifts) ensembleShares.push(share((await predict(pixels)).ood!));
    const json = JSON.parse(trained.model!.modelJson) as { userDefinedMetadata: Record<string, unknown> };
    json.userDefinedMetadata.outOfDistribution = old;
    await restore({ modelJson: JSON.stringify(json), weights: trained.model!.weights });
    try {
      // The old detector is read from the model and judges as it always has: its own distances, its own cut.
      const plain = await predict(test.pixels);
      const direct = judge(old, (await evaluateInBatches(model, test, 2, 16, dense)).features!);
      expect(plain.ood!.threshold).toBe(old.threshold);
      Array.from(plain.ood!.distances).forEach((d, i) => expect(d).toBeCloseTo(direct.distances[i], 2));
      const lastShares: number[] = [];
      for (const [, pixels] of shifts) lastShares.push(share((await predict(pixels)).ood!));
      // Each shift: the ensemble flags most, and more than the last hidden layer alone (docs/out-of-distribution.md).
      shifts.forEach((_, i) => {
        expect(ensembleShares[i]).toBeGreaterThan(0.8);
        expect(ensembleShares[i]).toBeGreaterThan(lastShares[i]);
      });
    } finally {
      model.dispose();
      await restore(trained.model!);
    }
  });

  it("flags blurred and lower-resolution images, and the image's detail alone sees them", async () => {
    const model = await loadModelFiles(trained.model!);
    try {
      const layers = oodLayersOf(model, OOD_LAYERS_WITH_DETAIL);
      const featuresOf = async (set: ImageSet) => (await evaluateInBatches(model, set, 2, 16, layers)).features!;
      const train = { features: await featuresOf(chestSet('train', 100, 1)), labels: chestSet('train', 100, 1).labels };
      const validation = await featuresOf(chestSet('validation', 100, 1));
      // The detail's four columns (the last of a row) as a detector of their own: what that member adds.
      const width = layers.reduce((sum, l) => sum + l.size, 0);
      const detailOnly = (rows: Float32Array) => rows.filter((_, i) => i % width >= width - 4);
      const detail = fitFeatureEnsembleDetector(
        { ...train, features: detailOnly(train.features) },
        detailOnly(validation),
        {
          layers: layers.slice(-1),
          numClasses: 2,
        },
      ).detector;
      expect(share(judge(detail, detailOnly(await featuresOf(chestSet('test', 50, 77)))))).toBeLessThan(0.15);
      for (const pixels of [blurred(test, 1), lowResolution(test)]) {
        const judged = (await predict(pixels)).ood!;
        const byDetail = share(judge(detail, detailOnly(await featuresOf({ ...test, pixels }))));
        expect(share(judged)).toBeGreaterThan(0.8);
        expect(byDetail).toBeGreaterThan(0.8);
        // Every flagged image gets a reason, and none is "more fine detail".
        const counts = unlikeReasonCounts(judged);
        expect(counts.sharper + counts.unknown).toBe(0);
      }
      // Why, as the page says it: a blurred film owes its score to less fine detail than the training films. (The
      // blocky half resolution above is flagged mostly by the first layer, which sees the blocks' edges.)
      const blurredJudged = (await predict(blurred(test, 1))).ood!;
      expect(unlikeReasonCounts(blurredJudged).softer).toBeGreaterThan(0.8 * countUnlike(blurredJudged));
      // Noise is more fine detail, never less.
      const noisy = unlikeReasonCounts((await predict(noise(40, 3))).ood!);
      expect(noisy.softer + noisy.unknown).toBe(0);
    } finally {
      model.dispose();
    }
  });

  it('keeps the detector in the model files, and a restored model judges the same way', async () => {
    const json = JSON.parse(trained.model!.modelJson) as {
      userDefinedMetadata?: { outOfDistribution?: { threshold: number } };
    };
    expect(json.userDefinedMetadata?.outOfDistribution?.threshold).toBeCloseTo(
      trained.scores!.validation.ood!.threshold,
      5,
    );
    const before = await predict(test.pixels);
    await restore(trained.model!);
    const after = await predict(test.pixels);
    expect(Array.from(after.ood!.distances)).toEqual(Array.from(before.ood!.distances));
    const exported = await ask<'exportModel'>({ type: 'exportModel' });
    expect(exported.ood?.threshold).toBe(before.ood!.threshold);
    // Evaluate on the loaded dataset: the restored model's own detector judges validation and test, unchanged.
    const evaluated = await ask<'evaluateModel'>({ type: 'evaluateModel', batchSize: 16 });
    expect(Array.from(evaluated.scores.validation.ood!.distances)).toEqual(
      Array.from(trained.scores!.validation.ood!.distances),
    );
    expect(evaluated.scores.test!.ood!.threshold).toBe(trained.scores!.test!.ood!.threshold);
    expect(countUnlike(evaluated.test.ood!)).toBe(countUnlike(trained.test!.ood!));
  });

  it('refuses a model whose statistics are damaged, and keeps the one it had', async () => {
    const json = JSON.parse(trained.model!.modelJson) as {
      userDefinedMetadata: { outOfDistribution: { layers: { precision: unknown[][] }[] } };
    };
    json.userDefinedMetadata.outOfDistribution.layers[1].precision[3][5] = 'x';
    const files = { modelJson: JSON.stringify(json), weights: trained.model!.weights };
    await expect(restore(files)).rejects.toThrow(/damaged/);
    expect((await predict(test.pixels)).ood).not.toBeNull();
  });

  it('keeps the tensor count flat while predicting and judging', async () => {
    await predict(test.pixels);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await predict(test.pixels);
    expect(tf.memory().numTensors).toBe(before);
  });
});
