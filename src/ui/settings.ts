import { BACKEND_CHOICES, CLASS_WEIGHTINGS, type BackendChoice, type ClassWeighting, type TrainSettings } from '../worker/protocol';
import { DEFAULT_AUGMENTATION, augmentationFromQuery, augmentationToQuery } from './augmentationSettings';

/** Defaults follow the Keras tutorial: 150 px, batch 32, RMSprop at 1e-3. */
export const DEFAULT_SETTINGS: TrainSettings = {
  imageSize: 150,
  epochs: 10,
  batchSize: 32,
  learningRate: 0.001,
  backend: 'auto',
  seed: 1,
  // Balanced: the chest X-ray train split is 3:1 PNEUMONIA:NORMAL, and unweighted the model leans to the majority.
  classWeighting: 'balanced',
  // 3: validation loss on a few hundred images wobbles from epoch to epoch, so one or two epochs without a new
  // low are common noise in the tutorial's 10 epochs; three in a row mean it has stopped improving (and the
  // best epoch's weights are restored, so waiting costs time, never accuracy).
  patience: 3,
  // Why these: see augmentationSettings.ts (close to the tutorial's ImageDataGenerator, flip off).
  augmentation: DEFAULT_AUGMENTATION,
  // 10%: the share of train held out when the val folder is too small (data/splits.ts).
  validationPercent: 10,
  // 0: without a test folder the page evaluates on validation, as before; `bench:accuracy` asks for 15.
  testPercent: 0,
};

/** Form field label, URL query key and accepted range of each setting (see docs/ui-contract.md). */
export const SETTING_FIELDS = {
  imageSize: { label: 'Image size', key: 'size', min: 31, max: 512, integer: true },
  epochs: { label: 'Epochs', key: 'epochs', min: 1, max: 500, integer: true },
  batchSize: { label: 'Batch size', key: 'batch', min: 1, max: 1024, integer: true },
  learningRate: { label: 'Learning rate', key: 'lr', min: 1e-6, max: 1, integer: false },
  seed: { label: 'Seed', key: 'seed', min: 0, max: 2 ** 31 - 1, integer: true },
  patience: { label: 'Patience', key: 'patience', min: 0, max: 500, integer: true },
  validationPercent: {
    label: 'Validation size',
    key: 'val',
    min: 1,
    max: 50,
    integer: true,
    hint: 'Percent of each class of train held out for validation when the val folder has fewer than 10 images a class',
  },
  testPercent: {
    label: 'Test hold-out',
    key: 'holdout',
    min: 0,
    max: 50,
    integer: true,
    hint: 'Percent of each class of train held out as the test split when the archive has no test folder (0: none)',
  },
} as const;

export type NumericSetting = keyof typeof SETTING_FIELDS;

/** Why a value was refused, in words for the form; null when it is fine. */
export function checkSetting(name: NumericSetting, value: number): string | null {
  const field = SETTING_FIELDS[name];
  if (!Number.isFinite(value)) return `${field.label} must be a number.`;
  if (field.integer && !Number.isInteger(value)) return `${field.label} must be a whole number.`;
  if (value < field.min || value > field.max) return `${field.label} must be between ${field.min} and ${field.max}.`;
  return null;
}

/** Reads settings from a query string (`?size=64&epochs=2&batch=16&lr=0.0005&backend=cpu`), ignoring bad values. */
export function settingsFromQuery(search: string, base: TrainSettings = DEFAULT_SETTINGS): { settings: TrainSettings; problems: string[] } {
  const params = new URLSearchParams(search);
  const settings: TrainSettings = { ...base };
  const problems: string[] = [];
  for (const name of Object.keys(SETTING_FIELDS) as NumericSetting[]) {
    const raw = params.get(SETTING_FIELDS[name].key);
    if (raw === null || raw.trim() === '') continue;
    const value = Number(raw);
    const problem = checkSetting(name, value);
    if (problem) problems.push(`${problem} (URL parameter ${SETTING_FIELDS[name].key}=${raw} ignored)`);
    else settings[name] = value;
  }
  const backend = params.get('backend');
  if (backend !== null) {
    if ((BACKEND_CHOICES as readonly string[]).includes(backend)) settings.backend = backend as BackendChoice;
    else problems.push(`Backend must be one of ${BACKEND_CHOICES.join(', ')} (URL parameter backend=${backend} ignored)`);
  }
  const weights = params.get('weights');
  if (weights !== null) {
    if ((CLASS_WEIGHTINGS as readonly string[]).includes(weights)) settings.classWeighting = weights as ClassWeighting;
    else problems.push(`Class weights must be one of ${CLASS_WEIGHTINGS.join(', ')} (URL parameter weights=${weights} ignored)`);
  }
  settings.augmentation = augmentationFromQuery(params, base.augmentation, problems);
  return { settings, problems };
}

/** The query string that reproduces these settings (only what differs from the defaults). */
export function settingsToQuery(settings: TrainSettings): string {
  const params = new URLSearchParams();
  for (const name of Object.keys(SETTING_FIELDS) as NumericSetting[]) {
    if (settings[name] !== DEFAULT_SETTINGS[name]) params.set(SETTING_FIELDS[name].key, String(settings[name]));
  }
  if (settings.backend !== DEFAULT_SETTINGS.backend) params.set('backend', settings.backend);
  if (settings.classWeighting !== DEFAULT_SETTINGS.classWeighting) params.set('weights', settings.classWeighting);
  augmentationToQuery(settings.augmentation, params);
  const text = params.toString();
  return text ? `?${text}` : '';
}
