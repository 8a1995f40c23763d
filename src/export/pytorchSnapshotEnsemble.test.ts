/**
 * The PyTorch bundle with the machine's PyTorch (skipped without it; the fixture is pytorchFixture.testutil.ts).
 * A snapshot ensemble trained with torchrun, as the page builds it (model/ensemble.ts; the stacking itself:
 * pytorchStacking.test.ts); what train.py refuses in words.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ModelMetadata } from '../core/types';
import { oodFeatureLayers } from '../eval/outOfDistribution';
import { checkOodDetector } from '../eval/oodDetectorCheck';
import { manifestCsv } from './pytorchBundle';
import {
  hasTorch,
  loadZipInTfjs,
  MODEL_AND_PIXELS,
  PYTHON,
  readZip,
  refusal,
  rows,
  run,
  settings,
  TOLERANCE,
  torchPredict,
  type TorchPrediction,
  torchrunTwo,
  trainPy,
  useBundle,
  writeZip,
} from './pytorchFixture.testutil';
import { stackedTopology } from './pytorchAppModel.testutil';
import {
  PAGE_DETAIL_OOD_LAYERS,
  distanceDifference,
  layerSizeOf,
  maxDifference,
  pageFeatureRows,
  relativeDifference,
  tfjsOodLayers,
  tfjsVsTorch,
  torchOodRows,
} from './pytorchParity.testutil';

describe.skipIf(!hasTorch)('the PyTorch bundle with PyTorch: snapshot ensembles', () => {
  const bundle = useBundle();

  it('trains a 2-snapshot ensemble with torchrun into one model.zip that tfjs predicts with as PyTorch', async () => {
    const out = join(bundle.root, 'out-snapshots');
    const log = torchrunTwo([
      '--data',
      bundle.dataDir,
      '--epochs',
      '3',
      '--snapshots',
      '2',
      '--workers',
      '0',
      '--out',
      out,
    ]);
    expect(log).toContain('Snapshot ensemble of 2: cycles of epochs 1-1, 2-3');
    expect(log).toContain('snapshot 1/2 taken (end of epoch 1)');
    expect(log).toContain('snapshot 2/2 taken (end of epoch 3)');
    expect(log).toContain('Trained all 3 epoch(s).');
    expect(readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n')).toHaveLength(4);

    const files = await readZip(join(out, 'model.zip'));
    const metadata = JSON.parse(new TextDecoder().decode(files.get('metadata.json'))) as ModelMetadata & {
      ensemble?: unknown;
    };
    expect(metadata.ensemble).toEqual({ kind: 'snapshot', members: 2 });
    expect(metadata.trainedEpochs).toBe(3);

    // The app's topology for these settings with every width doubled, then the averaging layer as tfjs writes it.
    const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as tf.io.ModelJSON;
    expect(json.modelTopology).toEqual(await stackedTopology(2));
    const model = await loadZipInTfjs(files);
    expect(model.layers.at(-1)!.name).toBe('ensemble_average');
    expect(model.layers.at(-1)!.trainable).toBe(false);
    // Weights listed in the order, names and shapes tfjs gives the loaded model.
    expect(json.weightsManifest[0].weights.map((w) => [w.name, w.shape])).toEqual(
      model.weights.map((w) => [w.originalName, w.shape]),
    );
    expect(Array.from(model.getLayer('ensemble_average').getWeights()[0].dataSync())).toEqual([0.5, 0.5]);

    const images = rows.filter((_, i) => i % 2 === 0).map((row) => join(bundle.dataDir, row.path));
    const torch = torchPredict(join(out, 'model.zip'), images) as (TorchPrediction & {
      memberProbabilities: number[];
    })[];
    expect(tfjsVsTorch(model, torch)).toBeLessThan(TOLERANCE);
    // The output is the mean of the members', and the members (two snapshots of one run) differ.
    expect(
      maxDifference(
        torch.map((t) => t.probabilities),
        torch.map((t) => [(t.memberProbabilities[0] + t.memberProbabilities[1]) / 2]),
      ),
    ).toBeLessThan(1e-6);
    expect(
      Math.max(...torch.map((t) => Math.abs(t.memberProbabilities[0] - t.memberProbabilities[1]))),
    ).toBeGreaterThan(1e-4);
    // Each member taken out of the stacked model on its own predicts what the ensemble says it does.
    const inputs = join(bundle.root, 'snapshot-pixels.json');
    writeFileSync(inputs, JSON.stringify(torch.map((t) => t.pixels)));
    const script = [
      ...MODEL_AND_PIXELS(),
      'with torch.no_grad():',
      '    print(json.dumps(torch.cat([m(x) for m in ensemble.member_models(model)], dim=1).tolist()))',
    ];
    const members = JSON.parse(trainPy(script, join(out, 'model.zip'), inputs)) as number[][];
    expect(
      maxDifference(
        members,
        torch.map((t) => t.memberProbabilities),
      ),
    ).toBeLessThan(1e-5);

    // Its out-of-distribution detector judges the stacked model's layers: both members' features side by side
    // (twice the channels and units), read member by member in PyTorch, and the page's for the same pixels.
    // The image's detail (the default `ood`) is the one input's: 4 numbers, not K x 4.
    const detector = checkOodDetector(metadata.outOfDistribution, { layerSize: layerSizeOf(model), numClasses: 2 });
    expect(detector).toMatchObject({ method: 'mahalanobis-feature-ensemble', trainImages: 32, validationImages: 8 });
    expect(oodFeatureLayers(detector)).toEqual(tfjsOodLayers(model, PAGE_DETAIL_OOD_LAYERS));
    expect(oodFeatureLayers(detector).map((l) => l.size)).toEqual([64, 64, 128, 64, 128, 4]);
    expect(distanceDifference(model, detector, torch)).toBeLessThan(1e-3);
    const pixels = torch.map((t) => t.pixels);
    expect(
      relativeDifference(
        torchOodRows(join(out, 'model.zip'), pixels, PAGE_DETAIL_OOD_LAYERS),
        pageFeatureRows(model, pixels, oodFeatureLayers(detector)),
      ),
    ).toBeLessThan(TOLERANCE);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.outOfDistribution.validation).toMatchObject({ images: 8 });

    // Evaluating it (--epochs 0) works and scores the test images as --predict does; training it further does not.
    const evalOut = join(bundle.root, 'eval-snapshots');
    run(
      PYTHON,
      [
        'train.py',
        '--data',
        bundle.dataDir,
        '--init',
        join(out, 'model.zip'),
        '--epochs',
        '0',
        '--workers',
        '0',
        '--out',
        evalOut,
      ],
      bundle.bundleDir,
    );
    const scored = readFileSync(join(evalOut, 'test_predictions.csv'), 'utf8').trim().split('\n').slice(1);
    const scoredTorch = torchPredict(
      join(out, 'model.zip'),
      scored.map((line) => join(bundle.dataDir, line.split(',')[0])),
    );
    expect(
      maxDifference(
        scored.map((line) => [Number(line.split(',')[3])]),
        scoredTorch.map((t) => t.probabilities),
      ),
    ).toBeLessThan(1e-5);
    expect(
      refusal([
        '--data',
        bundle.dataDir,
        '--init',
        join(out, 'model.zip'),
        '--epochs',
        '1',
        '--out',
        join(bundle.root, 'no'),
      ]),
    ).toContain('cannot be trained further');
    // A metadata.json that disagrees with the model it comes with is refused, not believed.
    const tampered = join(bundle.root, 'snapshots-tampered.zip');
    await writeZip(tampered, {
      'model.json': files.get('model.json')!,
      'weights.bin': files.get('weights.bin')!,
      'metadata.json': JSON.stringify({ ...metadata, ensemble: { kind: 'snapshot', members: 3 } }),
    });
    expect(refusal(['--predict', tampered, '--images', images[0]])).toContain("is not the model's 2 members");
    // Members whose outputs are not probabilities of one class cannot be averaged: refused, not misread.
    const softmax = structuredClone(json) as unknown as {
      modelTopology: { config: { layers: { config: { name: string; activation?: string } }[] } };
    };
    softmax.modelTopology.config.layers.find((layer) => layer.config.name === 'dense_2')!.config.activation = 'softmax';
    await writeZip(tampered, {
      'model.json': JSON.stringify(softmax),
      'weights.bin': files.get('weights.bin')!,
      'metadata.json': files.get('metadata.json')!,
    });
    expect(refusal(['--predict', tampered, '--images', images[0]])).toContain('sigmoid outputs to 1');
    model.dispose();
  }, 150_000);

  it('refuses in words a snapshot ensemble it cannot train', () => {
    expect(
      refusal(['--data', bundle.dataDir, '--epochs', '1', '--snapshots', '2', '--out', join(bundle.root, 'no')]),
    ).toContain('needs at least 2 epochs');
    expect(refusal(['--data', bundle.dataDir, '--snapshots', '6', '--out', join(bundle.root, 'no')])).toContain(
      'from 1 to 5 (got 6)',
    );
    // Three classes: the members' softmax outputs cannot be averaged by the one last Dense layer.
    const threeClasses = join(bundle.root, 'three-classes');
    mkdirSync(threeClasses, { recursive: true });
    const classOf = (i: number) => ['a', 'b', 'c'][i % 3];
    writeFileSync(
      join(threeClasses, 'manifest.csv'),
      manifestCsv(rows.map((row, i) => ({ ...row, className: classOf(i) }))),
    );
    writeFileSync(
      join(threeClasses, 'settings.json'),
      JSON.stringify({ ...settings, snapshots: 2, epochs: 2, classNames: ['a', 'b', 'c'] }),
    );
    const message = refusal([
      '--data',
      bundle.dataDir,
      '--manifest',
      join(threeClasses, 'manifest.csv'),
      '--settings',
      join(threeClasses, 'settings.json'),
      '--out',
      join(bundle.root, 'no'),
    ]);
    expect(message).toContain('needs exactly 2 classes');
    expect(message).toContain('the manifest has 3 classes');
    expect(existsSync(join(bundle.root, 'no'))).toBe(false);
  }, 60_000);
});
