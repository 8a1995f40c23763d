import { BACKEND_CHOICES, type BackendChoice, type TrainSettings } from '../worker/protocol';

/** Defaults follow the Keras tutorial: 150 px, batch 32, RMSprop at 1e-3. */
export const DEFAULT_SETTINGS: TrainSettings = {
  imageSize: 150,
  epochs: 10,
  batchSize: 32,
  learningRate: 0.001,
  backend: 'auto',
  seed: 1,
};

/** Form field label, URL query key and accepted range of each setting (see docs/ui-contract.md). */
export const SETTING_FIELDS = {
  imageSize: { label: 'Image size', key: 'size', min: 31, max: 512, integer: true },
  epochs: { label: 'Epochs', key: 'epochs', min: 1, max: 500, integer: true },
  batchSize: { label: 'Batch size', key: 'batch', min: 1, max: 1024, integer: true },
  learningRate: { label: 'Learning rate', key: 'lr', min: 1e-6, max: 1, integer: false },
  seed: { label: 'Seed', key: 'seed', min: 0, max: 2 ** 31 - 1, integer: true },
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
  return { settings, problems };
}

/** The query string that reproduces these settings (only what differs from the defaults). */
export function settingsToQuery(settings: TrainSettings): string {
  const params = new URLSearchParams();
  for (const name of Object.keys(SETTING_FIELDS) as NumericSetting[]) {
    if (settings[name] !== DEFAULT_SETTINGS[name]) params.set(SETTING_FIELDS[name].key, String(settings[name]));
  }
  if (settings.backend !== DEFAULT_SETTINGS.backend) params.set('backend', settings.backend);
  const text = params.toString();
  return text ? `?${text}` : '';
}
