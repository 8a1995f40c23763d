/**
 * The PyTorch bundle with the machine's PyTorch (skipped without it; the fixture is pytorchFixture.testutil.ts).
 * `train.py` and torchrun train on a small generated dataset and write a model.zip that TensorFlow.js loads and that
 * predicts as PyTorch does (per-image standardisation too); it decodes images as the page and takes the same training
 * steps as the page (EXIF orientation: pytorchImages.test.ts).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { INPUT_DECODING, resizeText } from '../core/inputDecoding';
import type { ModelMetadata, FeatureEnsembleOodDetector, OodPooling } from '../core/types';
import { IMAGE_DETAIL_LAYER } from '../core/types';
import { oodFeatureLayers } from '../eval/outOfDistribution';
import { checkOodDetector } from '../eval/oodDetectorCheck';
import { disposeCnn } from '../model/cnn';
import { layerSizeOf as pageLayerSizeOf } from '../model/features';
import { syntheticSet } from '../model/testImages.testutil';
import { weightedTrainStep } from '../model/weightedStep';
import {
  CLASSES,
  exactPixels,
  hasTorch,
  loadZipInTfjs,
  PYTHON,
  readZip,
  refusal,
  rows,
  run,
  settings,
  SIZE,
  TOLERANCE,
  torchPredict,
  torchrunTwo,
  trainPy,
  useBundle,
} from './pytorchFixture.testutil';
import { appModelJson, appModelZip } from './pytorchAppModel.testutil';
import {
  PAGE_DETAIL_OOD_LAYERS,
  distanceDifference,
  layerSizeOf,
  maxDifference,
  tfjsOodLayers,
  tfjsVsTorch,
} from './pytorchParity.testutil';

describe.skipIf(!hasTorch)('the PyTorch bundle with PyTorch: training with train.py and torchrun', () => {
  const bundle = useBundle();

  it('trains with torchrun on 2 processes and writes a model.zip that tfjs loads and that predicts as PyTorch does', async () => {
    const out = join(bundle.root, 'out');
    const started = performance.now();
    const log = torchrunTwo(['--data', bundle.dataDir, '--epochs', '1', '--out', out]);
    const seconds = (performance.now() - started) / 1000;
    console.log(`torchrun --nproc_per_node=2, 1 epoch of 32 images at ${SIZE} px: ${seconds.toFixed(1)} s`);
    expect(log).toContain('2 process(es) on cpu');
    expect(log).toMatch(/epoch 1\/1: loss [\d.]+/);
    expect(log).toMatch(/test \(8 images\)/);

    const history = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n');
    expect(history[0]).toBe('epoch,loss,accuracy,val_loss,val_accuracy,best_val_loss,seconds,images_per_second');
    expect(history).toHaveLength(2);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.test.images).toBe(8);
    expect(metrics.validation.images).toBe(8);
    expect(metrics.thresholdRule).toBe('youden');
    expect(readFileSync(join(out, 'test_predictions.csv'), 'utf8').trim().split('\n')).toHaveLength(9);

    const files = await readZip(join(out, 'model.zip'));
    expect([...files.keys()].sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    const metadata = JSON.parse(new TextDecoder().decode(files.get('metadata.json'))) as ModelMetadata;
    const keys: (keyof ModelMetadata)[] = [
      'model',
      'classNames',
      'imageSize',
      'channels',
      'normalisation',
      'output',
      'positiveClass',
      'threshold',
      'thresholdClass',
      'thresholdRule',
      'resize',
      'trainedEpochs',
      'backend',
      'createdAt',
      'outOfDistribution',
      'inputDecoding',
    ];
    expect(Object.keys(metadata).sort()).toEqual([...keys].sort());
    // load_grey decodes as the page does now: the page takes the model as trained on films like its own.
    expect(metadata.inputDecoding).toBe(INPUT_DECODING);
    expect(metadata.resize).toBe(resizeText(SIZE));
    expect(metadata).toMatchObject({
      model: 'batchnorm',
      classNames: CLASSES,
      imageSize: SIZE,
      channels: 1,
      output: 'sigmoid',
      positiveClass: 'PNEUMONIA',
      thresholdClass: 'PNEUMONIA',
      thresholdRule: 'youden',
      trainedEpochs: 1,
    });
    expect(metadata.threshold).toBeGreaterThan(0);

    // The same model.json the app writes for these settings, but for the tool that wrote it.
    const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as tf.io.ModelJSON;
    const appJson = await appModelJson('none');
    expect(json.modelTopology).toEqual(appJson.modelTopology);
    expect(json.weightsManifest).toEqual(appJson.weightsManifest);
    expect(json.trainingConfig).toEqual(appJson.trainingConfig);
    expect(json.format).toBe('layers-model');

    const model = await loadZipInTfjs(files);
    const images = rows
      .filter((row) => row.split !== 'train' || row.path.includes('quoted'))
      .map((row) => join(bundle.dataDir, row.path));
    const torch = torchPredict(join(out, 'model.zip'), images);
    // Pixels as the page decodes them, where that is exact: PNGs at the model's size (grey, and colour through PIL's grey).
    for (const item of torch) {
      const expected = exactPixels.get(item.path.slice(bundle.dataDir.length + 1));
      if (expected) expect(item.pixels).toEqual(Array.from(expected));
    }
    const difference = tfjsVsTorch(model, torch);
    console.log(
      `model.zip from PyTorch: tfjs vs PyTorch on ${torch.length} images, max |difference| ${difference.toExponential(2)}`,
    );
    expect(difference).toBeLessThan(TOLERANCE);

    // Its out-of-distribution detector: the feature ensemble over OOD_LAYERS and the image's detail (the default
    // `ood`, detail) fitted on its training images, valid as the page checks it, in model.json too, and PyTorch's
    // scores are the page's for the same pixels.
    expect(settings.ood).toBe('detail');
    const detector = checkOodDetector(metadata.outOfDistribution, { layerSize: layerSizeOf(model), numClasses: 2 });
    expect(detector).toMatchObject({
      method: 'mahalanobis-feature-ensemble',
      quantile: 0.95,
      trainImages: 32,
      validationImages: 8,
    });
    expect(oodFeatureLayers(detector)).toEqual(tfjsOodLayers(model, PAGE_DETAIL_OOD_LAYERS));
    const detail = (detector as FeatureEnsembleOodDetector).layers.at(-1)!;
    expect(detail).toMatchObject({ featureLayer: IMAGE_DETAIL_LAYER, pooling: 'detail-octaves' });
    expect(detail.precision.map((row) => row.length)).toEqual([4, 4, 4, 4]);
    // As the page checks a loaded model's: its own layer widths (model/features.ts).
    const widths = { layerSize: (name: string, pooling: OodPooling) => pageLayerSizeOf(model, name, pooling) };
    expect(checkOodDetector(metadata.outOfDistribution, { ...widths, numClasses: 2 })).toEqual(detector);
    expect(metrics.outOfDistribution.method).toBe('mahalanobis-feature-ensemble');
    expect((json as { userDefinedMetadata?: unknown }).userDefinedMetadata).toEqual({
      outOfDistribution: metadata.outOfDistribution,
    });
    expect(metrics.outOfDistribution.validation).toMatchObject({ images: 8 });
    expect(metrics.outOfDistribution.validation.flagged).toBeLessThanOrEqual(1);
    expect(log).toMatch(/validation: \d of 8 images are unlike the training data \(.*feature-ensemble score/);
    const oodDifference = distanceDifference(model, detector, torch);
    console.log(
      `model.zip from PyTorch: feature-ensemble scores, tfjs vs PyTorch, max relative difference ${oodDifference.toExponential(2)}`,
    );
    expect(oodDifference).toBeLessThan(1e-3);
    expect(torch.every((t) => t.unlikeTrainingData === t.oodDistance! > detector.threshold)).toBe(true);
    model.dispose();
  }, 150_000);

  it('trains with per-image standardisation as the page builds it (--norm), and tfjs predicts as PyTorch does', async () => {
    const out = join(bundle.root, 'out-norm');
    // The page's `Unlike-training detector` `last` in settings.json: train.py fits dense_1's detector alone.
    const settings = join(bundle.root, 'settings-ood-last.json');
    const bundled = JSON.parse(readFileSync(join(bundle.bundleDir, 'settings.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(settings, JSON.stringify({ ...bundled, ood: 'last' }));
    const log = run(
      PYTHON,
      [
        'train.py',
        '--data',
        bundle.dataDir,
        '--epochs',
        '1',
        '--norm',
        'per-image',
        '--workers',
        '0',
        '--out',
        out,
      ].concat(['--settings', settings]),
      bundle.bundleDir,
    );
    expect(log).toContain('intensity normalisation per-image');
    const files = await readZip(join(out, 'model.zip'));
    const written = JSON.parse(new TextDecoder().decode(files.get('metadata.json'))) as ModelMetadata;
    expect(written.outOfDistribution?.method).toBe('mahalanobis-tied-covariance');
    const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as tf.io.ModelJSON;
    const appJson = await appModelJson('per-image');
    expect(json.modelTopology).toEqual(appJson.modelTopology);
    const model = await loadZipInTfjs(files);
    expect(model.layers[0].getClassName()).toBe('PerImageStandardization');
    const images = rows.filter((_, i) => i % 2 === 0).map((row) => join(bundle.dataDir, row.path));
    const torch = torchPredict(join(out, 'model.zip'), images);
    const difference = tfjsVsTorch(model, torch);
    expect(difference).toBeLessThan(TOLERANCE);
    model.dispose();
  }, 120_000);

  it('refuses in words an `ood` setting it does not know', () => {
    const unknown = join(bundle.root, 'settings-ood-unknown.json');
    const bundled = JSON.parse(readFileSync(join(bundle.bundleDir, 'settings.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(unknown, JSON.stringify({ ...bundled, ood: 'penultimate' }));
    const no = join(bundle.root, 'no');
    const words = refusal(['--data', bundle.dataDir, '--settings', unknown, '--out', no]);
    expect(words).toContain('ood must be "detail"');
    expect(words).toContain('got "penultimate"');
    expect(existsSync(no)).toBe(false);
  }, 60_000);

  it('trains as the page: the same loss, class weights, BatchNormalization and RMSprop steps (Dropout off)', async () => {
    const zip = join(bundle.root, 'step-model.zip');
    const model = await appModelZip('batchnorm', 2, zip);
    // Dropout's masks cannot be the same in both: off for this comparison (its rate is read at each call).
    (model.getLayer('dropout') as unknown as { rate: number }).rate = 0;
    const set = syntheticSet(8, SIZE, 2, 9);
    const labels = Array.from(set.labels);
    const classWeights = [0.8, 1.4];
    const steps = 3;
    const inputs = join(bundle.root, 'step-inputs.json');
    writeFileSync(inputs, JSON.stringify({ pixels: Array.from(set.pixels), labels, classWeights, steps }));
    const script = [
      // By name: this script's own `optimizer` and `loss` would hide the modules.
      'from xray_trainer.loss import per_image_cross_entropy',
      'from xray_trainer.optimizer import TfjsRMSprop',
      'model, _ = model_zip.load_app_model(sys.argv[1])',
      'model.dropout.p = 0.0',
      'model.train()',
      'd = json.load(open(sys.argv[2]))',
      `x = torch.tensor(d['pixels'], dtype=torch.float32).view(-1, 1, ${SIZE}, ${SIZE}).mul_(1.0 / 255.0)`,
      "y = torch.tensor(d['labels'])",
      "weight = torch.tensor(d['classWeights'])",
      'optimizer = TfjsRMSprop(model.parameters(), lr=1e-3)',
      'losses = []',
      "for _ in range(d['steps']):",
      '    loss = (per_image_cross_entropy(model(x), y, 2) * weight[y]).mean()',
      '    optimizer.zero_grad()',
      '    loss.backward()',
      '    optimizer.step()',
      '    losses.append(loss.item())',
      'state = model.state_dict()',
      "weights = {n: tfjs_format.to_tfjs(n, state[tfjs_format.torch_key(n)]).flatten().tolist() for n in tfjs_format.tfjs_weight_names('batchnorm')}",
      "print(json.dumps({'losses': losses, 'weights': weights}))",
    ];
    const torch = JSON.parse(trainPy(script, zip, inputs)) as {
      losses: number[];
      weights: Record<string, number[]>;
    };

    const xs = tf.tidy(
      () => tf.mul(tf.tensor4d(Array.from(set.pixels), [8, SIZE, SIZE, 1], 'float32'), 1 / 255) as tf.Tensor4D,
    );
    const ys = tf.tensor2d(labels, [8, 1], 'float32');
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) losses.push((await weightedTrainStep(model, xs, ys, classWeights)).loss);
    tf.dispose([xs, ys]);
    const lossDifference = maxDifference([losses], [torch.losses]);
    let weightDifference = 0;
    let moved = 0;
    for (const variable of model.weights) {
      const values = Array.from(variable.read().dataSync());
      const theirs = torch.weights[variable.originalName];
      expect(theirs, variable.originalName).toBeDefined();
      weightDifference = Math.max(weightDifference, maxDifference([values], [theirs]));
      moved++;
    }
    expect(moved).toBe(24);
    console.log(
      `${steps} training steps, tfjs vs PyTorch: losses ${losses.map((l) => l.toFixed(5)).join(', ')}; max |difference| loss ${lossDifference.toExponential(2)}, weights ${weightDifference.toExponential(2)}`,
    );
    expect(lossDifference).toBeLessThan(TOLERANCE);
    expect(weightDifference).toBeLessThan(TOLERANCE);
    disposeCnn(model);
  }, 60_000);
});
