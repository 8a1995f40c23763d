/**
 * A stored run as read back: IndexedDB is this page's own, but its records outlive app versions and can be edited
 * in the browser's developer tools, so each is checked against the shape this version writes (zod) before the page
 * uses it. A record that fails is skipped with a note that says which field, never passed on.
 */
import { z } from 'zod';
import { checkSettingValue, SETTING_PATHS, settingValue } from '../core/settings';
import { INPUT_DECODING } from '../core/inputDecoding';
import type { ModelFiles, Settings } from '../core/types';

// zod would probe for eval (`Function('')`) to compile fast parsers; the page's policy forbids eval, and a probe is a
// reported violation. Records are few: the plain parser is fast enough.
z.config({ jitless: true });

/** Records of this size are not this app's (a run of 500 epochs of 1,000 batches has 500,000 batch points). */
const MAX_POINTS = 2_000_000;
const MAX_TEXT = 1_000;
/** The caps Load model applies to a model file (data/modelFileChecks.ts), for stored model files too. */
export const MAX_MODEL_JSON_CHARS = 32 * 1024 ** 2;
const MAX_WEIGHTS_BYTES = 1024 ** 3;

const text = z.string().max(MAX_TEXT);
const count = z.number().int().min(0);
/** Any number, NaN and infinities too: a run that diverged has a NaN loss, and its record is still its record. */
const num = z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' });
const numberOrNull = num.nullable();

const settings = z.custom<Settings>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    SETTING_PATHS.every((path) => checkSettingValue(path, settingValue(value as Settings, path)) === null),
  { message: 'a setting is missing or out of range' },
);

const scoredSplit = z
  .object({
    scores: z.instanceof(Float32Array),
    labels: z.instanceof(Uint8Array),
    groups: z.instanceof(Uint32Array).optional(),
  })
  .refine((s) => (s.labels.length === 0 ? s.scores.length === 0 : s.scores.length % s.labels.length === 0), {
    message: 'scores and labels do not match',
  })
  .refine((s) => !s.groups || s.groups.length === s.labels.length, { message: 'groups and labels do not match' });

const testResult = z
  .object({
    loss: num,
    accuracy: num,
    scores: z.instanceof(Float32Array),
    labels: z.instanceof(Uint8Array),
    numClasses: z.number().int().min(2).max(1000),
    gallery: z.object({
      indices: z.instanceof(Uint32Array),
      pixels: z.instanceof(Uint8Array),
      size: z.number().int().min(0).max(1024),
    }),
  })
  .refine((t) => t.scores.length === t.labels.length * (t.numClasses === 2 ? 1 : t.numClasses), {
    message: 'scores and labels do not match',
  })
  .refine((t) => t.gallery.pixels.length === t.gallery.indices.length * t.gallery.size ** 2, {
    message: 'the gallery’s pixels do not match its images',
  });

const epochPoint = z.object({
  x: num,
  epoch: count,
  loss: num,
  accuracy: num,
  valLoss: num,
  valAccuracy: num,
  bestEpoch: z.number().int().min(-1),
  tensors: num,
});

const history = z.object({
  epochs: count,
  batchesPerEpoch: count,
  batchPoints: z.array(z.object({ x: num, loss: num, accuracy: num })).max(MAX_POINTS),
  epochPoints: z.array(epochPoint).max(MAX_POINTS),
  epochsDone: count,
  classWeights: z.array(num).max(1000).nullable(),
  bestEpoch: count.nullable(),
  outcome: z
    .object({
      reason: z.enum(['completed', 'stopped', 'early-stopped']),
      epochsDone: count,
      bestEpoch: count.nullable(),
      restoredBest: z.boolean(),
    })
    .nullable(),
});

const metadata = z.object({
  model: z.enum(['tutorial', 'batchnorm']),
  classNames: z.array(text).min(2).max(1000),
  imageSize: z.number().int().min(8).max(1024),
  channels: z.literal(1),
  normalisation: text,
  output: z.enum(['sigmoid', 'softmax']),
  positiveClass: text.nullable(),
  threshold: z.number().min(0).max(1).nullable(),
  thresholdClass: text.nullable(),
  thresholdRule: text.nullable(),
  resize: text,
  trainedEpochs: count,
  backend: text,
  createdAt: text,
  inputDecoding: z.literal(INPUT_DECODING).optional(),
});

const savedRun = z.object({
  id: z.string().min(1).max(MAX_TEXT),
  name: text,
  createdAt: text,
  updatedAt: text,
  datasetName: text,
  classNames: z.array(text).min(1).max(1000),
  settings,
  evaluatedOn: z.enum(['test', 'validation']),
  status: z.enum(['training', 'done', 'stopped', 'loaded']),
  history,
  test: testResult.nullable(),
  scores: z.object({ validation: scoredSplit, test: scoredSplit.nullable() }).nullable(),
  figures: z.object({ bestValLoss: numberOrNull, testAccuracy: numberOrNull, testAuc: numberOrNull }),
  models: z.array(z.enum(['checkpoint', 'best', 'model', 'snapshots'])).max(4),
  metadata: metadata.optional(),
  ensemble: z
    .object({
      kind: z.enum(['snapshot', 'seeds']),
      members: z.number().int().min(2).max(5),
      predictTimeRatio: z.number().positive().finite().nullable(),
      trainingTimeRatio: z.number().positive().finite().nullable().optional(),
    })
    .optional(),
  inputDecoding: z.literal(INPUT_DECODING).optional(),
});

/**
 * What a run saved before a setting existed trained with, by setting: its record lacks the field, and reads as this.
 * Not the table's defaults: those may change, and an old run's model stays what it was.
 */
export const SETTINGS_BEFORE_THEY_EXISTED: Readonly<Partial<Settings>> = {
  intensityNormalisation: 'none',
};

/**
 * The record with the settings it predates filled in (SETTINGS_BEFORE_THEY_EXISTED), so an older run reads, resumes
 * and exports as what it was; the record itself when it lacks none, or is not a record at all (the check says why).
 */
export function withSettingsItPredates(record: unknown): unknown {
  if (typeof record !== 'object' || record === null) return record;
  const settings = (record as { settings?: unknown }).settings;
  if (typeof settings !== 'object' || settings === null) return record;
  const missing = Object.entries(SETTINGS_BEFORE_THEY_EXISTED).filter(([key]) => !(key in settings));
  if (missing.length === 0) return record;
  return { ...record, settings: { ...settings, ...Object.fromEntries(missing) } };
}

/** Why the record is not a run this version can show (in words, for the page's note), or null when it is one. */
export function savedRunProblem(record: unknown): string | null {
  const parsed = savedRun.safeParse(record);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'the record';
  // zod's own words name JavaScript types ('received undefined'); these say what is wrong with the field.
  const why =
    issue.code === 'invalid_type'
      ? `missing, or not ${issue.expected === 'object' ? 'a record' : `a${/^[aeiou]/.test(issue.expected) ? 'n' : ''} ${issue.expected}`}`
      : issue.message;
  const name =
    typeof record === 'object' && record !== null && typeof (record as { name?: unknown }).name === 'string'
      ? (record as { name: string }).name
      : null;
  const what = name ? `“${name.length > 60 ? `${name.slice(0, 60)}…` : name}”` : 'a saved run';
  return `${what} (${where}: ${why})`;
}

/** Stored model files, or null when they are not what this app stores. */
export function checkStoredModel(record: unknown): ModelFiles | null {
  if (typeof record !== 'object' || record === null) return null;
  const { modelJson, weights } = record as Partial<ModelFiles>;
  if (typeof modelJson !== 'string' || modelJson.length > MAX_MODEL_JSON_CHARS) return null;
  if (!(weights instanceof ArrayBuffer) || weights.byteLength > MAX_WEIGHTS_BYTES) return null;
  return { modelJson, weights };
}
