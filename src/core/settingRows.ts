/**
 * The settings table: one row a setting, with its default, what it accepts, its form label, its URL query key, its
 * help text and who reads it; the rows live in their group's file (runRows.ts, splitRows.ts, evalRows.ts,
 * augmentationRows.ts, recipeRows.ts), their types in settingRowTypes.ts, and the table's order here. settings.ts
 * holds what everyone does with them (defaults, checks, URL text). A new setting is its field in types.ts plus one
 * row in its group's file and its place here (the table's type asks for a row for every field). Ground floor:
 * imports only from src/core; no DOM, no tfjs.
 */
import type { SettingsTable } from './settingRowTypes';
import { RUN_ROWS } from './runRows';
import { SPLIT_ROWS } from './splitRows';
import { EVAL_ROWS } from './evalRows';
import { AUGMENTATION_ROWS } from './augmentationRows';
import { RECIPE_ROWS } from './recipeRows';

export * from './settingRowTypes';

/** Every setting, in the form's order (which is also the order of URL keys and of problems). */
export const SETTINGS: SettingsTable = {
  model: RUN_ROWS.model,
  imageSize: RUN_ROWS.imageSize,
  epochs: RUN_ROWS.epochs,
  batchSize: RUN_ROWS.batchSize,
  learningRate: RUN_ROWS.learningRate,
  learningRateSchedule: RUN_ROWS.learningRateSchedule,
  seed: RUN_ROWS.seed,
  patience: RUN_ROWS.patience,
  validationPercent: SPLIT_ROWS.validationPercent,
  testPercent: SPLIT_ROWS.testPercent,
  testPattern: SPLIT_ROWS.testPattern,
  groupBy: SPLIT_ROWS.groupBy,
  groupPattern: SPLIT_ROWS.groupPattern,
  backend: RUN_ROWS.backend,
  classWeighting: RUN_ROWS.classWeighting,
  thresholdRule: EVAL_ROWS.thresholdRule,
  targetSensitivity: EVAL_ROWS.targetSensitivity,
  temperatureScaling: EVAL_ROWS.temperatureScaling,
  'augmentation.rotation': AUGMENTATION_ROWS['augmentation.rotation'],
  'augmentation.zoom': AUGMENTATION_ROWS['augmentation.zoom'],
  'augmentation.shift': AUGMENTATION_ROWS['augmentation.shift'],
  'augmentation.shear': AUGMENTATION_ROWS['augmentation.shear'],
  'augmentation.brightness': AUGMENTATION_ROWS['augmentation.brightness'],
  'augmentation.horizontalFlip': AUGMENTATION_ROWS['augmentation.horizontalFlip'],
  intensityNormalisation: RECIPE_ROWS.intensityNormalisation,
  'augmentation.contrast': AUGMENTATION_ROWS['augmentation.contrast'],
  'augmentation.gamma': AUGMENTATION_ROWS['augmentation.gamma'],
  'augmentation.blur': AUGMENTATION_ROWS['augmentation.blur'],
  'augmentation.noise': AUGMENTATION_ROWS['augmentation.noise'],
  'augmentation.crop': AUGMENTATION_ROWS['augmentation.crop'],
  labelSmoothing: RECIPE_ROWS.labelSmoothing,
  mixup: RECIPE_ROWS.mixup,
  weightDecay: RECIPE_ROWS.weightDecay,
  snapshots: RECIPE_ROWS.snapshots,
  seedModels: RECIPE_ROWS.seedModels,
  ood: RECIPE_ROWS.ood,
  testTimeAugmentation: EVAL_ROWS.testTimeAugmentation,
};
