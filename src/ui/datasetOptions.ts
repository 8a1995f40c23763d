import type { TrainSettings } from '../worker/protocol';
import type { DatasetView } from './useDataset';

/** How a dataset's images are split when it loads, from the settings (changing one means loading again). */
export interface SplitOptions {
  /** Percent of train held out as the test split when the archive has no test folder; 0 = none. */
  testPercent: number;
  /** Percent of each class of train held out for validation when the val folder is too small (planValidation). */
  validationPercent: number;
}

export function splitOptionsOf(settings: TrainSettings): SplitOptions {
  return { testPercent: settings.testPercent ?? 0, validationPercent: settings.validationPercent };
}

/** True when the archive has its own test folder (a test hold-out then changes nothing). */
export function hasTestFolder(view: DatasetView): boolean {
  return Object.values(view.counts.test).some((n) => n > 0);
}

/** Why the loaded images no longer fit the settings, so that Train loads them again; null when they fit. */
export function reloadReason(view: DatasetView, settings: TrainSettings): string | null {
  if (view.size !== settings.imageSize) return `Images will be decoded again at ${settings.imageSize} px.`;
  const { testPercent, validationPercent } = splitOptionsOf(settings);
  // With a usable val folder the share is not used: nothing to load again.
  if (view.validationPercent !== validationPercent && view.validationPlan.source === 'held-out') {
    return `The dataset will be loaded again, holding out ${validationPercent}% of train for validation.`;
  }
  if (view.testPercent !== testPercent && !hasTestFolder(view)) {
    return testPercent > 0
      ? `The dataset will be loaded again, holding out ${testPercent}% of train as the test split.`
      : 'The dataset will be loaded again, without a test hold-out.';
  }
  return null;
}
