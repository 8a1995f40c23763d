/**
 * A model file's bytes checked before anything builds on them: every field of model.json and metadata.json is
 * stranger's input. Pure (no zip.js, no tfjs): the page runs it on `Model file`, `npm run fuzz` runs it in Node.
 * Each refusal is a UserError whose sentence says what is wrong and what to do. This file holds the caps, the
 * guarded JSON parse and the quoting of strangers' strings; the weights are checked in modelWeightChecks.ts,
 * metadata.json in modelMetadataChecks.ts.
 */
import { UserError } from '../core/userError';
import { formatBytes } from '../core/formatUnits';

/** Bounds on what a model file may make the page read, parse and allocate. */
export const MODEL_FILE_LIMITS = {
  /**
   * model.json: the topology and manifest of this app's models are tens of KiB; its userDefinedMetadata holds the
   * out-of-distribution statistics too, about 6.5 MiB for an ensemble of 5 (K² x the features' covariances).
   */
  maxModelJsonBytes: 32 * 1024 ** 2,
  /** metadata.json holds the same statistics. */
  maxMetadataBytes: 16 * 1024 ** 2,
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

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

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

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A stranger's string in a message: cut short, quoted. React shows it as text, never as markup. */
export function quote(text: string): string {
  return `“${text.length > 60 ? `${text.slice(0, 60)}…` : text}”`;
}
