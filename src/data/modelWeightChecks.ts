/**
 * model.json's weights manifest and the weights' bytes checked against it: names, shapes, types, a sane total, the
 * length declared, and no NaN or infinite values. Pure (no tfjs); the caps are modelFileChecks.ts'.
 */
import type { ModelFiles } from '../core/types';
import { UserError } from '../core/userError';
import { formatBytes } from '../core/formatUnits';
import { isObject, MODEL_FILE_LIMITS, parseJsonChecked, quote, type Json } from './modelFileChecks';

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
