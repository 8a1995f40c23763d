/**
 * Models built by the app for the PyTorch bundle's tests: with weights away from their initial values and a detector
 * fitted as the page fits one, zipped as the page downloads them; and the model.json the app writes for the bundle.
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../core/random';
import type { IntensityNormalisation, ModelMetadata, ModelName, OodLayerChoice } from '../core/types';
import { fitFeatureEnsembleDetector } from '../eval/featureEnsemble';
import { fitOodDetector } from '../eval/outOfDistribution';
import { disposeCnn } from '../model/cnn';
import { exportLayersModel } from '../model/layersFormat';
import { buildModel } from '../model/models';
import { syntheticSet } from '../model/testImages.testutil';
import { CLASSES, SIZE, settings, writeZip } from './pytorchFixture.testutil';
import { PAGE_DETAIL_OOD_LAYERS, PAGE_OOD_LAYERS, tfjsOodLayers, tfjsOodRows } from './pytorchParity.testutil';

/**
 * A model built by the app with weights away from their initial values (biases, BatchNormalization's scale, shift and
 * running statistics), exported as the page exports it and zipped with its metadata, as the page's download.
 */
export async function appModelZip(
  name: ModelName,
  numClasses: number,
  path: string,
  intensityNormalisation: IntensityNormalisation = 'none',
  ood: OodLayerChoice = 'detail',
): Promise<tf.LayersModel> {
  const model = buildModel(name, { imageSize: SIZE, numClasses, learningRate: 1e-3, seed: 11, intensityNormalisation });
  const random = mulberry32(numClasses * 7 + name.length);
  for (const variable of model.weights) {
    const weight = variable.originalName.split('/').pop()!;
    if (weight === 'kernel') continue;
    const size = variable.shape.reduce((a, b) => a! * b!, 1)!;
    const values = Float32Array.from({ length: size }, () => {
      const r = random();
      if (weight === 'gamma') return 0.5 + r;
      if (weight === 'moving_variance') return 0.3 + 1.5 * r;
      return (r - 0.5) * 0.4; // bias, beta, moving_mean
    });
    variable.write(tf.tensor(values, variable.shape as number[]));
  }
  const classNames = numClasses === 2 ? CLASSES : ['a', 'b', 'c'];
  // A detector as the page fits one, on this model's features of generated images (not the dataset's: a loaded
  // model's statistics come from elsewhere).
  const fitSet = syntheticSet(60, SIZE, numClasses, 21);
  const fitPixels = Array.from({ length: fitSet.count }, (_, i) =>
    Array.from(fitSet.pixels.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE)),
  );
  // The page's `ood` setting: the feature ensemble with the image's detail as the page fits it now (`detail`), the
  // one of models saved before the detail (`layers`), or the one-layer detector of models saved before either (`last`).
  const layers = tfjsOodLayers(
    model,
    ood === 'detail' ? PAGE_DETAIL_OOD_LAYERS : ood === 'layers' ? PAGE_OOD_LAYERS : [['dense_1', 'none']],
  );
  const width = layers.reduce((sum, l) => sum + l.size, 0);
  const fitFeatures = tfjsOodRows(model, fitPixels, SIZE, layers);
  const train = { features: fitFeatures.subarray(0, 40 * width), labels: fitSet.labels.subarray(0, 40) };
  const { detector } =
    ood !== 'last'
      ? fitFeatureEnsembleDetector(train, fitFeatures.subarray(40 * width), { layers, numClasses })
      : fitOodDetector(train, fitFeatures.subarray(40 * width), {
          featureSize: 64,
          numClasses,
          featureLayer: 'dense_1',
        });
  writeFileSync(path + '.detector.json', JSON.stringify(detector));
  const exported = await exportLayersModel(model);
  const metadata: ModelMetadata = {
    model: name,
    classNames,
    imageSize: SIZE,
    channels: 1,
    normalisation: 'grey',
    output: numClasses === 2 ? 'sigmoid' : 'softmax',
    positiveClass: numClasses === 2 ? classNames[1] : null,
    threshold: 0.5,
    thresholdClass: classNames[1],
    thresholdRule: 'fixed',
    resize: 'squashed',
    trainedEpochs: 1,
    backend: 'cpu',
    createdAt: new Date(0).toISOString(),
    outOfDistribution: detector,
  };
  await writeZip(path, {
    'model.json': exported.modelJson,
    'weights.bin': new Uint8Array(exported.weights),
    'metadata.json': JSON.stringify(metadata),
  });
  return model;
}

/** The model.json the app writes for the bundle's settings (a batchnorm model, 2 classes). */
export async function appModelJson(
  intensityNormalisation: IntensityNormalisation,
  members = 1,
): Promise<tf.io.ModelJSON> {
  const app = buildModel('batchnorm', {
    imageSize: SIZE,
    numClasses: 2,
    learningRate: settings.learningRate,
    seed: settings.seed,
    intensityNormalisation,
    members,
  });
  try {
    return JSON.parse((await exportLayersModel(app)).modelJson) as tf.io.ModelJSON;
  } finally {
    disposeCnn(app);
  }
}

/** The topology the app itself writes for a snapshot ensemble of `members` (model/ensemble.ts builds it so). */
export async function stackedTopology(members: number): Promise<unknown> {
  return (await appModelJson('none', members)).modelTopology;
}
