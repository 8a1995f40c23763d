/**
 * What the page's URL reader and writer, the settings form and the worker's checks do with the settings
 * table (settingRows.ts), so they cannot disagree: defaults, the one check of a value, the text of a value.
 * Ground floor: imports only from src/core; no DOM, no tfjs.
 */
import { SETTINGS, type AugmentationKey, type SettingPath, type SettingRow, type SettingValue } from './settingRows';
import type { AugmentationSettings, EvalSettings, Settings, TrainSettings } from './types';

export * from './settingRows';

/** Every path, in the table's order. */
export const SETTING_PATHS = Object.keys(SETTINGS) as SettingPath[];

/** The row of a path, as the union every function here works on. */
export function settingRow(path: SettingPath): SettingRow {
  return SETTINGS[path] as SettingRow;
}

const AUGMENTATION_PREFIX = 'augmentation.';

/** Whether a path is one of the augmentation's (the form's `Augmentation` fieldset). */
export function isAugmentationPath(path: SettingPath): path is `augmentation.${AugmentationKey}` {
  return path.startsWith(AUGMENTATION_PREFIX);
}

export const AUGMENTATION_PATHS = SETTING_PATHS.filter(isAugmentationPath);

/** The value at `path`; undefined when a message from elsewhere lacks it. */
export function settingValue<P extends SettingPath>(settings: Settings, path: P): SettingValue<P>;
export function settingValue(settings: Partial<Settings>, path: SettingPath): unknown;
export function settingValue(settings: Partial<Settings>, path: SettingPath): unknown {
  if (!isAugmentationPath(path)) return settings[path];
  return settings.augmentation?.[path.slice(AUGMENTATION_PREFIX.length) as AugmentationKey];
}

/** A copy of `settings` with `value` at `path`. */
export function withSetting<S extends Settings | TrainSettings, P extends SettingPath>(
  settings: S,
  path: P,
  value: SettingValue<P>,
): S {
  if (!isAugmentationPath(path)) return { ...settings, [path]: value };
  return { ...settings, augmentation: { ...settings.augmentation, [path.slice(AUGMENTATION_PREFIX.length)]: value } };
}

/** The table's defaults. */
export const DEFAULT_SETTINGS: Readonly<Settings> = SETTING_PATHS.reduce(
  (settings, path) => withSetting(settings, path, SETTINGS[path].default as never),
  { augmentation: {} } as Settings,
);

/** Why `value` cannot be used for this setting, in words for the form and the worker; null when it is fine. */
export function checkSettingValue(path: SettingPath, value: unknown): string | null {
  const row = settingRow(path);
  switch (row.kind) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return `${row.label} must be a number.`;
      if (row.integer && !Number.isInteger(value)) return `${row.label} must be a whole number.`;
      if (value < row.min || value > row.max) return `${row.label} must be between ${row.min} and ${row.max}.`;
      return null;
    case 'choice':
      return row.values.includes(value as string) ? null : `${row.label} must be one of ${row.values.join(', ')}.`;
    case 'switch':
      return typeof value === 'boolean' ? null : `${row.label} must be on or off.`;
    case 'text':
      if (typeof value !== 'string') return `${row.label} must be text.`;
      if (value.length > row.maxLength) return `${row.label} must be at most ${row.maxLength} characters.`;
      return row.check?.(value) ?? null;
  }
}

const SWITCH_ON = ['1', 'true', 'on', 'yes'];
const SWITCH_OFF = ['0', 'false', 'off', 'no'];

/** The value a text (a URL parameter, a form field as typed) stands for, or why it stands for none. */
export function parseSettingText(
  path: SettingPath,
  text: string,
): { value: unknown; problem: null } | { value: null; problem: string } {
  const row = settingRow(path);
  let value: unknown = text;
  if (row.kind === 'number') value = text.trim() === '' ? NaN : Number(text);
  if (row.kind === 'switch') {
    const word = text.trim().toLowerCase();
    if (!SWITCH_ON.includes(word) && !SWITCH_OFF.includes(word))
      return { value: null, problem: `${row.label} must be 1 or 0.` };
    value = SWITCH_ON.includes(word);
  }
  const problem = checkSettingValue(path, value);
  return problem === null ? { value, problem } : { value: null, problem };
}

/** The text `parseSettingText` reads back as `value` (`1` / `0` for a switch). */
export function settingText(path: SettingPath, value: unknown): string {
  if (settingRow(path).kind === 'switch') return value ? '1' : '0';
  return String(value);
}

function firstProblem(settings: Partial<Settings>, paths: readonly SettingPath[]): string | null {
  for (const path of paths) {
    const problem = checkSettingValue(path, settingValue(settings, path));
    if (problem) return problem;
  }
  return null;
}

const TRAIN_PATHS = SETTING_PATHS.filter((path) => settingRow(path).use === 'train');

/**
 * What a run is told: the `train` rows of the form's settings (the split rows were used when the dataset loaded).
 * A setting missing (a run saved before it existed, resumed) takes its default: what that run trained with.
 */
export function trainSettingsOf(settings: Settings): TrainSettings {
  return TRAIN_PATHS.reduce(
    (out, path) =>
      withSetting(
        out,
        path,
        (settingValue(settings, path) as SettingValue<typeof path> | undefined) ??
          legacyValue(path) ??
          SETTINGS[path].default,
      ),
    { augmentation: { ...settings.augmentation } } as TrainSettings,
  );
}

/** What a run saved before `path` existed trained with, when the row says (else undefined: the default). */
function legacyValue(path: SettingPath): SettingValue<typeof path> | undefined {
  const row = settingRow(path);
  return (row.kind === 'number' || row.kind === 'choice' ? row.legacy : undefined) as
    SettingValue<typeof path> | undefined;
}

/** The first problem with the settings the worker reads (every `train` row), or null. */
export function checkTrainSettings(settings: TrainSettings): string | null {
  return firstProblem(settings, TRAIN_PATHS);
}

const EVAL_PATHS = SETTING_PATHS.filter((path) => settingRow(path).use === 'eval');

/** The first problem with the settings an `evaluate` request carries (every `eval` row), or null. */
export function checkEvalSettings(settings: EvalSettings): string | null {
  return firstProblem(settings, EVAL_PATHS);
}

/** The first problem with these augmentation settings, or null. */
export function checkAugmentation(augmentation: AugmentationSettings): string | null {
  return firstProblem({ augmentation }, AUGMENTATION_PATHS);
}

/** Every change off (each range 0, no flip). */
export const NO_AUGMENTATION: Readonly<AugmentationSettings> = {
  rotation: 0,
  zoom: 0,
  shift: 0,
  shear: 0,
  brightness: 0,
  horizontalFlip: false,
  contrast: 0,
  gamma: 0,
  blur: 0,
  noise: 0,
  crop: 0,
};

/**
 * The training-recipe variants all off (label smoothing, mixup, weight decay, a single model; the default decay is 1),
 * and the default out-of-distribution detector.
 */
export const NO_RECIPE: Readonly<
  Pick<TrainSettings, 'labelSmoothing' | 'mixup' | 'weightDecay' | 'snapshots' | 'seedModels' | 'ood'>
> = {
  labelSmoothing: 0,
  mixup: 0,
  weightDecay: 0,
  snapshots: 1,
  seedModels: 1,
  ood: 'detail',
};

/** Whether any change is on: a range above 0, or the flip. */
export function isAugmenting(settings: AugmentationSettings): boolean {
  return Object.values(settings).some((value) => value === true || (typeof value === 'number' && value > 0));
}
