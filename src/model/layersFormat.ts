/**
 * A trained model as the two files of the TensorFlow.js layers format: model.json (topology +
 * weights manifest) and weights.bin (all weights, one buffer), loadable by tf.loadLayersModel.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelFiles } from '../core/types';

/** model.json's text and weights.bin's bytes, in the order the manifest lists them. */
export type ExportedModel = ModelFiles;

/** The weights file name model.json points to; keep the downloaded file under this name. */
export const WEIGHTS_FILE = 'weights.bin';

export async function exportLayersModel(model: tf.LayersModel): Promise<ExportedModel> {
  let exported: ExportedModel | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const withTraining = artifacts.trainingConfig ?? trainingConfigOf(model);
      exported = {
        modelJson: JSON.stringify(
          modelJsonOf({ ...artifacts, ...(withTraining ? { trainingConfig: withTraining } : {}) }),
        ),
        weights: joinWeightData(artifacts.weightData),
      };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (exported === null) throw new Error('TensorFlow.js did not hand over the model to save.');
  return exported;
}

/** model.json as tf.io.browserDownloads writes it, with one weights file. */
export function modelJsonOf(artifacts: tf.io.ModelArtifacts): tf.io.ModelJSON {
  if (artifacts.modelTopology == null) throw new Error('The model has no topology to save.');
  const json: tf.io.ModelJSON = {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.trainingConfig != null) json.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata != null) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.signature != null) json.signature = artifacts.signature;
  return json;
}

/** tfjs may hand weights over as one buffer or as several (large models); weights.bin is one. */
export function joinWeightData(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return tf.io.CompositeArrayBuffer.join(data);
}

/**
 * Loss, metrics and optimizer settings, so the file loads compiled and can be trained further.
 * (tfjs adds them only when saving the optimizer's state, which would double the download.)
 */
function trainingConfigOf(model: tf.LayersModel): tf.io.TrainingConfig | null {
  if (model.optimizer == null) return null;
  try {
    // Protected in the typings only; it is what model.save itself calls.
    return (model as unknown as { getTrainingConfig(): tf.io.TrainingConfig }).getTrainingConfig();
  } catch {
    return null;
  }
}
