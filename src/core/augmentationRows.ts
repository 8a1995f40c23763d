/**
 * The rows of the training images' augmentation (read by the worker): the geometric and brightness ranges, the
 * flip, and the acquisition changes. By default the acquisition changes with zoom are on (ACQUISITION_AUGMENTATION
 * in ui/training/augmentationSettings.ts says why); the rest are off.
 */
import type { NumberRow, SettingsTable } from './settingRowTypes';

/**
 * An augmentation range (read by the worker): from 0, which turns the change off, up to `max`; fractions too. A run
 * saved before the range existed, or before the acquisition defaults (2026-12-05), trained with it off: legacy 0.
 */
function augmentationRange(
  label: string,
  query: string,
  max: number,
  step: number,
  unit: string,
  defaultValue = 0,
): NumberRow & { use: 'train' } {
  return {
    kind: 'number',
    label,
    query,
    use: 'train',
    default: defaultValue,
    legacy: 0,
    min: 0,
    max,
    integer: false,
    step,
    unit,
  };
}

export const AUGMENTATION_ROWS: Pick<
  SettingsTable,
  | 'augmentation.rotation'
  | 'augmentation.zoom'
  | 'augmentation.shift'
  | 'augmentation.shear'
  | 'augmentation.brightness'
  | 'augmentation.horizontalFlip'
  | 'augmentation.contrast'
  | 'augmentation.gamma'
  | 'augmentation.blur'
  | 'augmentation.noise'
  | 'augmentation.crop'
> = {
  // Rotation, shift, shear and brightness are off by default, by measurement: the tutorial's geometry cost held-out
  // accuracy (TUTORIAL_AUGMENTATION in ui/training/augmentationSettings.ts). Zoom 0.2 is on with the acquisition
  // changes below (ACQUISITION_AUGMENTATION there: held-out sources, under acquisition shifts).
  'augmentation.rotation': augmentationRange('Rotation', 'rot', 180, 1, 'degrees either way'),
  'augmentation.zoom': augmentationRange('Zoom', 'zoom', 0.9, 0.05, 'e.g. 0.2 = 0.8 to 1.2 times', 0.2),
  'augmentation.shift': augmentationRange('Shift', 'shift', 0.5, 0.05, 'fraction of width and height'),
  'augmentation.shear': augmentationRange('Shear', 'shear', 45, 1, 'degrees either way'),
  'augmentation.brightness': augmentationRange('Brightness', 'bright', 0.9, 0.05, 'e.g. 0.2 = 0.8 to 1.2 times'),
  'augmentation.horizontalFlip': {
    kind: 'switch',
    label: 'Horizontal flip',
    query: 'flip',
    use: 'train',
    // Off: chest anatomy is not symmetric (the heart lies left); a mirrored chest is not a real one.
    default: false,
  },
  // Acquisition changes (issue 23): what another detector, exposure or processing does to a film. On by default
  // (ACQUISITION_AUGMENTATION; docs/benchmarks.md has the leave-one-source-out runs under shifts).
  'augmentation.contrast': augmentationRange('Contrast', 'contrast', 0.9, 0.05, 'e.g. 0.3 = 0.7 to 1.3 times', 0.4),
  'augmentation.gamma': augmentationRange('Gamma', 'gamma', 2, 0.05, 'e.g. 0.3 = gamma 1/1.3 to 1.3', 0.5),
  'augmentation.blur': augmentationRange('Blur', 'blur', 4, 0.25, 'Gaussian sigma in pixels, mixed in 0 to 100%', 1),
  'augmentation.noise': augmentationRange(
    'Noise',
    'noise',
    0.2,
    0.01,
    'standard deviation up to this, pixels 0..1',
    0.04,
  ),
  // Framing (issue 23): a tighter frame, as another site collimates, broke every model of the leave-one-source-out
  // study (docs/benchmarks.md); zoom 0.2 reaches only 1.25x.
  'augmentation.crop': augmentationRange(
    'Crop',
    'crop',
    0.6,
    0.05,
    'e.g. 0.4 = half the images keep 60% to 100% of the side',
  ),
};
