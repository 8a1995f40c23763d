/**
 * A model as files and back: the TensorFlow.js layers format (model.json + one weights buffer), with or
 * without the optimizer's state. A checkpoint (with it) lets a run continue exactly where it stopped, in
 * this tab or after a reload; a model (without it) is what Predict, evaluation and downloads use.
 * Pure tfjs (no DOM): the worker uses it, Node tests check it.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelFiles } from '../core/types';
import { UserError } from '../core/userError';
import { registerBatchNormGradient } from './batchNormGradient';
import { registerBatchNormalizationLayer } from './batchNormLayer';
import { registerIntensityNormalisationLayer } from './intensityNormalisation';
import { intensityNormalisationOf } from '../core/intensityNormalisation';
import { joinWeightData, modelJsonOf } from './layersFormat';
import { ENSEMBLE_AVERAGE_LAYER } from './cnn';

/** The model's files; with `includeOptimizer`, the optimizer's state follows the weights (group `optimizer`). */
export async function modelFilesOf(model: tf.LayersModel, includeOptimizer: boolean): Promise<ModelFiles> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(saved) };
    }),
  );
  if (artifacts === null) throw new Error('TensorFlow.js did not hand over the model to save.');
  const saved: tf.io.ModelArtifacts = artifacts;
  if (!includeOptimizer || !model.optimizer)
    return { modelJson: JSON.stringify(modelJsonOf(saved)), weights: joinWeightData(saved.weightData) };
  // Not model.save's includeOptimizer: it never frees the iteration count's tensor, one leaked a checkpoint.
  const state = await model.optimizer.getWeights();
  try {
    const optimizer = await tf.io.encodeWeights(state, 'optimizer');
    const weights = tf.io.CompositeArrayBuffer.join([joinWeightData(saved.weightData), optimizer.data]);
    const weightSpecs = [...(saved.weightSpecs ?? []), ...optimizer.specs];
    return { modelJson: JSON.stringify(modelJsonOf({ ...saved, weightSpecs })), weights };
  } finally {
    // The first is the iteration count, made for this call; the others are the optimizer's own variables.
    state[0]?.tensor.dispose();
  }
}

/** model.json's parts, checked enough to say in words what is wrong with a file that is not a model. */
export function parseModelJson(modelJson: string): tf.io.ModelJSON {
  let json: unknown;
  try {
    json = JSON.parse(modelJson);
  } catch {
    throw new UserError('model.json is not JSON: this is not a TensorFlow.js model.');
  }
  const j = json as Partial<tf.io.ModelJSON> | null;
  if (!j || typeof j !== 'object' || !j.modelTopology || !Array.isArray(j.weightsManifest)) {
    throw new UserError(
      'model.json has no model topology or weights manifest: this is not a TensorFlow.js layers model.',
    );
  }
  return j as tf.io.ModelJSON;
}

function weightSpecsOf(json: tf.io.ModelJSON): tf.io.WeightsManifestEntry[] {
  return json.weightsManifest.flatMap((group) => group.weights);
}

/**
 * The model in `files`, ready to predict (not compiled: training goes through `loadCheckpoint`). Throws a
 * UserError naming the problem when the weights do not fit the topology.
 */
export async function loadModelFiles(files: ModelFiles): Promise<tf.LayersModel> {
  const json = parseModelJson(files.modelJson);
  registerBatchNormGradient();
  registerBatchNormalizationLayer();
  registerIntensityNormalisationLayer();
  const specs = weightSpecsOf(json).filter((spec) => spec.group !== 'optimizer');
  const expected = specs.reduce(
    (sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1) * bytesOf(spec.quantization?.dtype ?? spec.dtype),
    0,
  );
  if (files.weights.byteLength < expected) {
    throw new UserError(
      `The weights file has ${files.weights.byteLength} bytes but model.json needs ${expected}: the files do not belong together.`,
    );
  }
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: files.weights.slice(0, expected),
        // What this app keeps beside the weights (the out-of-distribution detector); checked by whoever reads it.
        ...(isPlainObject(json.userDefinedMetadata) ? { userDefinedMetadata: json.userDefinedMetadata } : {}),
      }),
    );
  } catch (error) {
    throw new UserError(
      `The model could not be built from its files: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * Gives `model` (built and compiled the same way as the checkpoint's) the checkpoint's weights and, when it has
 * them, its optimizer's state, so the next step is the step the saved run would have taken.
 */
export async function loadCheckpoint(model: tf.LayersModel, files: ModelFiles): Promise<{ withOptimizer: boolean }> {
  const json = parseModelJson(files.modelJson);
  if (topologyLayerNames(json.modelTopology).includes(ENSEMBLE_AVERAGE_LAYER))
    throw new UserError(
      'This model is a snapshot ensemble (several models averaged as one): it is for predicting and evaluating only ' +
        'and cannot be trained further. Train a new run instead (with Snapshot ensemble as you like).',
    );
  // The normalisation layer has no weights: weights alone would load into a model without it, and predict otherwise.
  const saved = intensityNormalisationOf(topologyClassNames(json.modelTopology));
  const built = intensityNormalisationOf(model.layers.map((l) => l.getClassName()));
  if (saved !== built)
    throw new UserError(
      `The saved run's model has intensity normalisation ${saved}, this one ${built}: resume it with its own settings.`,
    );
  const specs = weightSpecsOf(json);
  const named = tf.io.decodeWeights(files.weights, specs);
  const modelWeights: tf.NamedTensorMap = {};
  const optimizerWeights: { name: string; tensor: tf.Tensor }[] = [];
  for (const spec of specs) {
    if (spec.group === 'optimizer') optimizerWeights.push({ name: spec.name, tensor: named[spec.name] });
    else modelWeights[spec.name] = named[spec.name];
  }
  try {
    model.loadWeights(modelWeights, true);
    // The optimizer matches its state to the variables by position (tfjs' RMSprop): same model, same order.
    if (optimizerWeights.length > 0 && model.optimizer) await model.optimizer.setWeights(optimizerWeights);
    return { withOptimizer: optimizerWeights.length > 0 && model.optimizer != null };
  } catch (error) {
    throw new UserError(
      `The saved run's weights do not fit this model: ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    // loadWeights and setWeights copy into their own variables.
    tf.dispose(Object.values(named));
  }
}

/** The layers of a model.json topology (a Sequential's, as tfjs writes it); [] when it has none. */
function topologyLayers(topology: unknown): unknown[] {
  const root = isPlainObject(topology) && isPlainObject(topology.model_config) ? topology.model_config : topology;
  const layers = isPlainObject(root) && isPlainObject(root.config) ? root.config.layers : undefined;
  return Array.isArray(layers) ? layers : [];
}

/** The class names of a model.json topology's layers; [] when it has none. */
function topologyClassNames(topology: unknown): unknown[] {
  return topologyLayers(topology).map((l) => (isPlainObject(l) ? l.class_name : undefined));
}

/** The layer names of a model.json topology's layers (`config.name`); [] when it has none. */
function topologyLayerNames(topology: unknown): unknown[] {
  return topologyLayers(topology).map((l) => (isPlainObject(l) && isPlainObject(l.config) ? l.config.name : undefined));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bytesOf(dtype: string): number {
  switch (dtype) {
    case 'float32':
    case 'int32':
      return 4;
    case 'bool':
    case 'uint8':
      return 1;
    case 'float16':
    case 'uint16':
    case 'int16':
      return 2;
    default:
      throw new UserError(`model.json lists a weight of type ${dtype}, which this app cannot read.`);
  }
}
