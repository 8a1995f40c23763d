/**
 * The augmentation settings' names, URL keys and ranges, shared by the page (form, URL) and the worker
 * (checks). No tfjs here: the page imports it.
 */
import type { AugmentationSettings } from './protocol';

export type AugmentationRange = Exclude<keyof AugmentationSettings, 'horizontalFlip'>;

/** Form label, URL query key, largest value and what the number means, of each range (all start at 0 = off). */
export const AUGMENTATION_FIELDS: Record<AugmentationRange, { label: string; key: string; max: number; step: number; unit: string }> = {
  rotation: { label: 'Rotation', key: 'rot', max: 180, step: 1, unit: 'degrees either way' },
  zoom: { label: 'Zoom', key: 'zoom', max: 0.9, step: 0.05, unit: 'e.g. 0.2 = 0.8 to 1.2 times' },
  shift: { label: 'Shift', key: 'shift', max: 0.5, step: 0.05, unit: 'fraction of width and height' },
  shear: { label: 'Shear', key: 'shear', max: 45, step: 1, unit: 'degrees either way' },
  brightness: { label: 'Brightness', key: 'bright', max: 0.9, step: 0.05, unit: 'e.g. 0.2 = 0.8 to 1.2 times' },
};

export const AUGMENTATION_RANGES = Object.keys(AUGMENTATION_FIELDS) as AugmentationRange[];

/** Label and URL key of the mirror switch (`flip=1` / `flip=0`). */
export const FLIP_FIELD = { label: 'Horizontal flip', key: 'flip' } as const;

export const NO_AUGMENTATION: Readonly<AugmentationSettings> = {
  rotation: 0,
  zoom: 0,
  shift: 0,
  shear: 0,
  brightness: 0,
  horizontalFlip: false,
};

/** Why a range's value cannot be used, in words for the form; null when it is fine. */
export function checkAugmentationValue(name: AugmentationRange, value: number): string | null {
  const field = AUGMENTATION_FIELDS[name];
  if (!Number.isFinite(value)) return `${field.label} must be a number.`;
  if (value < 0 || value > field.max) return `${field.label} must be between 0 and ${field.max}.`;
  return null;
}

/** The first problem with these settings, or null. */
export function checkAugmentation(settings: AugmentationSettings): string | null {
  for (const name of AUGMENTATION_RANGES) {
    const problem = checkAugmentationValue(name, settings[name]);
    if (problem) return problem;
  }
  return typeof settings.horizontalFlip === 'boolean' ? null : `${FLIP_FIELD.label} must be on or off.`;
}

export function isAugmenting(settings: AugmentationSettings): boolean {
  return AUGMENTATION_RANGES.some((name) => settings[name] > 0) || settings.horizontalFlip;
}
