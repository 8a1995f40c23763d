/**
 * A model file's bytes checked before anything builds on them: every field of model.json and metadata.json is
 * stranger's input. Pure (no zip.js, no tfjs): the page runs it on `Model file`, `npm run fuzz` runs it in Node.
 * Each refusal is a UserError whose sentence says what is wrong and what to do.
 */
import { MODEL_NAMES, type ModelFiles, type ModelMetadata, type ModelName } from '../core/types';
import { UserError } from '../core/userError';
import { formatBytes } from '../core/formatUnits';

/** Bounds on what a model file may make the page read, parse and allocate. */
export const MODEL_FILE_LIMITS = {
  /** model.json: the topology and manifest of this app's models are tens of KiB. */
  maxModelJsonBytes: 8 * 1024 ** 2,
  maxMetadataBytes: 1024 ** 2,
  /** All weights files together. */
  maxWeightsBytes: 512 * 1024 ** 2,
  /** Nesting of objects and arrays in either JSON file (this app writes under 10). */
  maxJsonDepth: 64,
  /** Parameters of the whole model (this app's models have about 150 thousand). */
  maxParameters: 100_000_000,
  maxWeightSpecs: 10_000,
  maxLayers: 1_000,
  maxClasses: 1_000,
  maxClassNameChars: 200,
  /** Other strings of metadata.json (normalisation, resize, backend, dates). */
  maxTextChars: 500,
  minImageSize: 8,
  maxImageSize: 1024,
} as const;

/** A weight as model.json declares it, checked. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  /** Bytes of one value as stored (1 or 2 when quantized). */
  storedBytes: number;
  quantization: { dtype: string; scale?: number; min?: number } | null;
}

const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };
const QUANTIZED_BYTES: Readonly<Record<string, number>> = { uint8: 1, uint16: 2, float16: 2 };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Parses `text` as JSON once its size and nesting are known to be sane: a file nested 200,000 deep parses in V8
 * but would overflow the stack of whatever walks it next (tfjs' deserialisation, JSON.stringify).
 */
export function parseJsonChecked(text: string, what: string, maxBytes: number): Json {
  if (text.length > maxBytes) {
    throw new UserError(
      `${what} is ${formatBytes(text.length)}, over the ${formatBytes(maxBytes)} limit: it is not a model this app made.`,
    );
  }
  const depth = jsonDepth(text, MODEL_FILE_LIMITS.maxJsonDepth);
  if (depth > MODEL_FILE_LIMITS.maxJsonDepth) {
    throw new UserError(
      `${what} is nested more than ${MODEL_FILE_LIMITS.maxJsonDepth} levels deep: it is damaged or not a model this app made.`,
    );
  }
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new UserError(`${what} is not JSON: it is damaged or not a TensorFlow.js model.`);
  }
}

/** The deepest nesting of brackets outside strings, counted up to just past `limit` (no recursion). */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // A backslash escapes the next character.
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** model.json's weights, checked: names, shapes of whole non-negative numbers, known types, a sane total. */
export function weightSpecsOf(
  json: Json,
  what: string,
): { specs: WeightSpec[]; paths: string[]; parameters: number; bytes: number } {
  if (!isObject(json) || !isObject(json.modelTopology) || !Array.isArray(json.weightsManifest)) {
    throw new UserError(`${what} has no model topology or weights manifest: it is not a TensorFlow.js layers model.`);
  }
  const specs: WeightSpec[] = [];
  const paths: string[] = [];
  let parameters = 0;
  let bytes = 0;
  for (const group of json.weightsManifest) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new UserError(`${what}'s weights manifest is malformed (each group needs paths and weights).`);
    }
    for (const path of group.paths) {
      if (typeof path !== 'string' || path.length === 0 || path.length > 500)
        throw new UserError(`${what} names a weights file with an unusable name.`);
      paths.push(path);
    }
    for (const raw of group.weights) {
      if (specs.length >= MODEL_FILE_LIMITS.maxWeightSpecs) {
        throw new UserError(
          `${what} lists more than ${MODEL_FILE_LIMITS.maxWeightSpecs} weights: it is not a model this app made.`,
        );
      }
      const spec = weightSpecOf(raw, what);
      const count = spec.shape.reduce((a, b) => a * b, 1);
      parameters += count;
      if (parameters > MODEL_FILE_LIMITS.maxParameters) {
        throw new UserError(
          `${what} declares ${spec.shape.join(' × ')} values for ${quote(spec.name)}, more than the ${MODEL_FILE_LIMITS.maxParameters.toLocaleString('en')} parameters a model may have here: it is not a model this app made.`,
        );
      }
      bytes += count * spec.storedBytes;
      specs.push(spec);
    }
  }
  if (paths.length === 0) throw new UserError(`${what} names no weights file.`);
  if (bytes > MODEL_FILE_LIMITS.maxWeightsBytes) {
    throw new UserError(
      `${what} declares ${formatBytes(bytes)} of weights, over the ${formatBytes(MODEL_FILE_LIMITS.maxWeightsBytes)} limit.`,
    );
  }
  return { specs, paths, parameters, bytes };
}

function weightSpecOf(raw: unknown, what: string): WeightSpec {
  if (!isObject(raw) || typeof raw.name !== 'string' || !Array.isArray(raw.shape) || typeof raw.dtype !== 'string') {
    throw new UserError(
      `${what} has a weight without a name, shape and dtype: it is damaged or not a TensorFlow.js model.`,
    );
  }
  const name = raw.name.slice(0, MODEL_FILE_LIMITS.maxTextChars);
  if (raw.shape.length > 8 || !raw.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new UserError(`${what} gives ${quote(name)} a shape that is not a list of whole numbers: it is damaged.`);
  }
  const shape = raw.shape as number[];
  // Checked one dimension at a time: 65536 × 65536 must not need a 16 GiB product to be refused.
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count > MODEL_FILE_LIMITS.maxParameters) {
      throw new UserError(
        `${what} declares ${shape.join(' × ')} values for ${quote(name)}, more than the ${MODEL_FILE_LIMITS.maxParameters.toLocaleString('en')} parameters a model may have here: it is not a model this app made.`,
      );
    }
  }
  if (!(raw.dtype in DTYPE_BYTES))
    throw new UserError(
      `${what} gives ${quote(name)} the type ${quote(raw.dtype)}, which TensorFlow.js models do not use.`,
    );
  let quantization: WeightSpec['quantization'] = null;
  let storedBytes = DTYPE_BYTES[raw.dtype];
  if (raw.quantization !== undefined) {
    const q = raw.quantization;
    if (!isObject(q) || typeof q.dtype !== 'string' || !(q.dtype in QUANTIZED_BYTES)) {
      throw new UserError(`${what} quantizes ${quote(name)} in a way TensorFlow.js does not know.`);
    }
    const scale = q.scale === undefined ? undefined : Number(q.scale);
    const min = q.min === undefined ? undefined : Number(q.min);
    if ((scale !== undefined && !Number.isFinite(scale)) || (min !== undefined && !Number.isFinite(min))) {
      throw new UserError(`${what} quantizes ${quote(name)} with a scale or minimum that is not a finite number.`);
    }
    quantization = { dtype: q.dtype, scale, min };
    storedBytes = QUANTIZED_BYTES[q.dtype];
  }
  return { name, shape, dtype: raw.dtype, storedBytes, quantization };
}

/** Refuses weights whose bytes are not what model.json declares, or that hold NaN or infinite values. */
export function checkWeights(specs: WeightSpec[], declaredBytes: number, weights: Uint8Array, what: string): void {
  checkWeightBytes(declaredBytes, weights.byteLength, what);
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const length = count * spec.storedBytes;
    const bad = nonFiniteCount(spec, weights.subarray(offset, offset + length), count);
    if (bad > 0) {
      throw new UserError(
        `${what}: ${bad.toLocaleString('en')} of the ${count.toLocaleString('en')} values of ${quote(spec.name)} are NaN or infinite: the model is broken (a run that diverged); load one saved before it did.`,
      );
    }
    offset += length;
  }
}

/** Model files from this page's own storage, held to the same checks as a loaded file (they may be older or edited). */
export function checkModelFiles(files: ModelFiles, what: string): void {
  const json = parseJsonChecked(files.modelJson, what, MODEL_FILE_LIMITS.maxModelJsonBytes);
  const { specs, bytes } = weightSpecsOf(json, what);
  checkWeights(specs, bytes, new Uint8Array(files.weights), what);
}

/** Refuses weights of another length than model.json's shapes and types declare. */
export function checkWeightBytes(declaredBytes: number, presentBytes: number, what: string): void {
  if (presentBytes === declaredBytes) return;
  const cut = presentBytes < declaredBytes ? 'cut short' : 'bytes left over';
  throw new UserError(
    `${what}: the weights are ${presentBytes.toLocaleString('en')} bytes but model.json declares ${declaredBytes.toLocaleString('en')} (${cut}): the files are damaged or do not belong together.`,
  );
}

function nonFiniteCount(spec: WeightSpec, bytes: Uint8Array, count: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let bad = 0;
  if (spec.quantization?.dtype === 'float16') {
    for (let i = 0; i < count; i++) if ((view.getUint16(i * 2, true) & 0x7c00) === 0x7c00) bad++;
  } else if (!spec.quantization && spec.dtype === 'float32') {
    for (let i = 0; i < count; i++) if (!Number.isFinite(view.getFloat32(i * 4, true))) bad++;
  }
  return bad;
}

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

/** A stranger's string in a message: cut short, quoted. React shows it as text, never as markup. */
export function quote(text: string): string {
  return `“${text.length > 60 ? `${text.slice(0, 60)}…` : text}”`;
}
