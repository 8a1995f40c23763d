/**
 * Augmentation's defaults and its URL keys (`rot`, `zoom`, `shift`, `shear`, `bright`, `flip`);
 * settings.ts reads and writes the rest of the query.
 */
import { AUGMENTATION_FIELDS, AUGMENTATION_RANGES, FLIP_FIELD, checkAugmentationValue } from '../worker/augmentSettings';
import type { AugmentationSettings } from '../worker/protocol';

/**
 * Close to the Keras tutorial's ImageDataGenerator (zoom_range=0.2, shear_range=0.2, horizontal_flip=True),
 * with the small rotation and shift its chest X-ray versions add:
 * - zoom 0.2, as there;
 * - shear 10 degrees: Keras 1 read shear_range=0.2 in radians (about 11 degrees); Keras 2 reads degrees, where 0.2 does nothing;
 * - rotation 10 degrees and shift 0.1: patients stand a little tilted and off-centre; 30 degrees makes chests no radiograph shows;
 * - brightness 0: the tutorial has none; exposure does vary between radiographs, so it is there to turn on;
 * - horizontal flip off: chest anatomy is not symmetric (the heart lies left); a mirrored chest is not a real one.
 */
export const DEFAULT_AUGMENTATION: AugmentationSettings = {
  rotation: 10,
  zoom: 0.2,
  shift: 0.1,
  shear: 10,
  brightness: 0,
  horizontalFlip: false,
};

const FLIP_ON = ['1', 'true', 'on', 'yes'];
const FLIP_OFF = ['0', 'false', 'off', 'no'];

/** The augmentation a query asks for (on top of `base`); what cannot be used is said in `problems`. */
export function augmentationFromQuery(params: URLSearchParams, base: AugmentationSettings, problems: string[]): AugmentationSettings {
  const settings = { ...base };
  for (const name of AUGMENTATION_RANGES) {
    const { key } = AUGMENTATION_FIELDS[name];
    const raw = params.get(key);
    if (raw === null || raw.trim() === '') continue;
    const value = Number(raw);
    const problem = checkAugmentationValue(name, value);
    if (problem) problems.push(`${problem} (URL parameter ${key}=${raw} ignored)`);
    else settings[name] = value;
  }
  const flip = params.get(FLIP_FIELD.key);
  if (flip !== null) {
    const word = flip.trim().toLowerCase();
    if (FLIP_ON.includes(word)) settings.horizontalFlip = true;
    else if (FLIP_OFF.includes(word)) settings.horizontalFlip = false;
    else problems.push(`${FLIP_FIELD.label} must be 1 or 0 (URL parameter ${FLIP_FIELD.key}=${flip} ignored)`);
  }
  return settings;
}

/** Adds to `params` the keys of what differs from the defaults. */
export function augmentationToQuery(settings: AugmentationSettings, params: URLSearchParams): void {
  for (const name of AUGMENTATION_RANGES) {
    if (settings[name] !== DEFAULT_AUGMENTATION[name]) params.set(AUGMENTATION_FIELDS[name].key, String(settings[name]));
  }
  if (settings.horizontalFlip !== DEFAULT_AUGMENTATION.horizontalFlip) params.set(FLIP_FIELD.key, settings.horizontalFlip ? '1' : '0');
}
