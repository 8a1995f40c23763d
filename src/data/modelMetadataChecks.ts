/**
 * metadata.json checked and read as this app writes it (or a Teachable Machine one), with what model.json's
 * topology says (its layers, input size, output units) to fill in and cross-check. Pure (no tfjs); the caps are
 * modelFileChecks.ts'.
 */
import { decodedAsNow, INPUT_DECODING } from '../core/inputDecoding';
import { MODEL_NAMES, type ModelMetadata, type ModelName } from '../core/types';
import { UserError } from '../core/userError';
import { isObject, MODEL_FILE_LIMITS, parseJsonChecked, quote, type Json } from './modelFileChecks';

/** Layers of a Keras-style topology, at most MODEL_FILE_LIMITS.maxLayers. */
export function layersOf(json: Json): { class_name?: unknown; config?: Record<string, unknown> }[] {
  const topology = isObject(json) && isObject(json.modelTopology) ? json.modelTopology : null;
  const modelConfig = topology && isObject(topology.model_config) ? topology.model_config : null;
  const config = modelConfig && isObject(modelConfig.config) ? modelConfig.config : null;
  const layers = config?.layers;
  if (!Array.isArray(layers)) return [];
  if (layers.length > MODEL_FILE_LIMITS.maxLayers)
    throw new UserError(
      `The model has more than ${MODEL_FILE_LIMITS.maxLayers} layers: it is not a model this app made.`,
    );
  return layers
    .filter((l): l is { [key: string]: Json } => isObject(l))
    .map((l) => ({ class_name: l.class_name, config: isObject(l.config) ? l.config : undefined }));
}

/** The square input size model.json declares, or null. */
export function inputSizeOf(json: Json): number | null {
  for (const layer of layersOf(json)) {
    const shape = layer.config?.batch_input_shape ?? layer.config?.batchInputShape;
    if (Array.isArray(shape) && typeof shape[1] === 'number') return shape[1];
  }
  return null;
}

function outputUnitsOf(json: Json): number {
  const dense = layersOf(json).filter((l) => l.class_name === 'Dense');
  const units = dense[dense.length - 1]?.config?.units;
  return typeof units === 'number' && Number.isSafeInteger(units) && units >= 1 ? units : 2;
}

/** This app's metadata.json; a Teachable Machine one (labels); or names made up from the output size. */
/**
 * metadata.json read as this app writes it. `fields` is the parsed object, for what upper layers check themselves
 * (the out-of-distribution statistics: eval/outOfDistribution.ts).
 */
export function metadataOf(
  text: string | null,
  modelJson: Json,
): { metadata: ModelMetadata; warnings: string[]; fields: Record<string, unknown> } {
  const warnings: string[] = [];
  let parsed: Record<string, unknown> = {};
  if (text !== null) {
    try {
      const json = parseJsonChecked(text, 'metadata.json', MODEL_FILE_LIMITS.maxMetadataBytes);
      if (isObject(json)) parsed = json;
      else warnings.push('metadata.json is not a JSON object and was ignored.');
    } catch (error) {
      // Not JSON: ignored, said. Too large or too deep: refused (a stranger's file, not a damaged one).
      if (!(error instanceof UserError) || !/is not JSON/.test(error.message)) throw error;
      warnings.push('metadata.json is not JSON and was ignored.');
    }
  } else {
    warnings.push('There was no metadata.json: class names and preprocessing are assumed (grey, pixel / 255).');
  }
  const inputSize = inputSizeOf(modelJson);
  const listed = Array.isArray(parsed.classNames)
    ? parsed.classNames
    : Array.isArray(parsed.labels)
      ? parsed.labels
      : null;
  const units = outputUnitsOf(modelJson);
  const classNames = listed
    ? classNamesOf(listed)
    : Array.from({ length: Math.min(units === 1 ? 2 : units, MODEL_FILE_LIMITS.maxClasses) }, (_, i) => `class ${i}`);
  const imageSize = parsed.imageSize === undefined ? inputSize : parsed.imageSize;
  if (imageSize !== null && (typeof imageSize !== 'number' || !Number.isInteger(imageSize))) {
    throw new UserError('metadata.json gives an image size that is not a whole number: the file is damaged.');
  }
  if (inputSize !== null && imageSize !== inputSize) {
    throw new UserError(
      `metadata.json says ${imageSize} px images but the model takes ${inputSize} px: the files do not belong together.`,
    );
  }
  if (imageSize === null)
    throw new UserError('The model does not say its input size: it is not a model this app made.');
  const { minImageSize, maxImageSize } = MODEL_FILE_LIMITS;
  if (imageSize < minImageSize || imageSize > maxImageSize) {
    throw new UserError(
      `The model takes ${imageSize} px images; this app works with ${minImageSize} to ${maxImageSize} px.`,
    );
  }
  const binary = classNames.length === 2;
  const positiveClass = binary
    ? (optionalName(parsed.positiveClass, 'positiveClass', classNames) ?? classNames[1])
    : null;
  const threshold = parsed.threshold ?? null;
  if (threshold !== null && (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1))) {
    throw new UserError('metadata.json gives a threshold that is not a number from 0 to 1: the file is damaged.');
  }
  const trainedEpochs = parsed.trainedEpochs ?? 0;
  if (typeof trainedEpochs !== 'number' || !Number.isSafeInteger(trainedEpochs) || trainedEpochs < 0) {
    throw new UserError('metadata.json gives a number of epochs that is not a whole number: the file is damaged.');
  }
  return {
    metadata: {
      model: modelNameOf(parsed.model),
      classNames,
      imageSize,
      channels: 1,
      normalisation: textOf(parsed.normalisation, 'normalisation') ?? 'grey, then pixel / 255 (assumed)',
      output: binary ? 'sigmoid' : 'softmax',
      positiveClass,
      threshold,
      thresholdClass: optionalName(parsed.thresholdClass, 'thresholdClass', classNames),
      thresholdRule: textOf(parsed.thresholdRule, 'thresholdRule'),
      resize: textOf(parsed.resize, 'resize') ?? `squashed to ${imageSize} x ${imageSize}`,
      trainedEpochs,
      backend: textOf(parsed.backend, 'backend') ?? '',
      createdAt: textOf(parsed.createdAt, 'createdAt') ?? '',
      // Anything else there (an older or another program's file) is as good as absent: not decoded as now.
      ...(decodedAsNow(parsed.inputDecoding) ? { inputDecoding: INPUT_DECODING } : {}),
    },
    warnings,
    fields: parsed,
  };
}

function modelNameOf(value: unknown): ModelName {
  if (value === undefined) return 'tutorial';
  if (typeof value === 'string' && (MODEL_NAMES as readonly string[]).includes(value)) return value as ModelName;
  throw new UserError(
    `metadata.json names the network ${quote(String(value))}; this app knows ${MODEL_NAMES.join(' and ')}.`,
  );
}

/** Class names: strings, a sane number of them, unique, no markup or control characters. */
function classNamesOf(listed: unknown[]): string[] {
  if (listed.length < 2 || listed.length > MODEL_FILE_LIMITS.maxClasses) {
    throw new UserError(
      `metadata.json lists ${listed.length} class names; a classifier here has 2 to ${MODEL_FILE_LIMITS.maxClasses}.`,
    );
  }
  const names = listed.map((n) => {
    if (typeof n !== 'string' && typeof n !== 'number')
      throw new UserError('metadata.json has a class name that is not text: the file is damaged.');
    return checkedName(String(n), 'a class name');
  });
  if (new Set(names).size !== names.length)
    throw new UserError('metadata.json names a class twice: class names must be unique.');
  return names;
}

function checkedName(name: string, what: string): string {
  if (name.trim().length === 0 || name.length > MODEL_FILE_LIMITS.maxClassNameChars) {
    throw new UserError(
      `metadata.json has ${what} that is empty or over ${MODEL_FILE_LIMITS.maxClassNameChars} characters. Edit metadata.json's classNames.`,
    );
  }
  if (/[<>\p{Cc}]/u.test(name)) {
    throw new UserError(
      `metadata.json has ${what}, ${quote(name)}, with markup or control characters (< > or line breaks): it is refused. Rename the class in metadata.json.`,
    );
  }
  return name;
}

function optionalName(value: unknown, field: string, classNames: string[]): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !classNames.includes(value)) {
    throw new UserError(`metadata.json's ${field} is not one of its class names: the file is damaged.`);
  }
  return value;
}

function textOf(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > MODEL_FILE_LIMITS.maxTextChars) {
    throw new UserError(
      `metadata.json's ${field} is not text of at most ${MODEL_FILE_LIMITS.maxTextChars} characters: the file is damaged.`,
    );
  }
  return value;
}
