import type { Settings, SplitSettings } from '../../core/types';
import type { DecodedDataset } from '../../data/types';

/** What these functions read of a loaded dataset (useDataset's DatasetView: it imports SplitOptions from here). */
type LoadedDataset = Pick<DecodedDataset, 'size' | 'validationPlan' | 'counts'> &
  SplitSettings & { source?: { kind: string } };

/** How a dataset's images are split when it loads, from the settings (changing one means loading again). */
export type SplitOptions = SplitSettings;

/** The settings the page's loader reads (the `split` rows of the settings table); the worker never sees them. */
export function splitOptionsOf(settings: Settings): SplitOptions {
  const { testPercent, testPattern, validationPercent, groupBy, groupPattern } = settings;
  return { testPercent, testPattern, validationPercent, groupBy, groupPattern };
}

const GROUPING_TEXT: Record<SplitSettings['groupBy'], string> = {
  patient: 'by the patient in each file name',
  regex: 'by the Patient pattern',
  none: 'one by one (no patients)',
};

/** Whether the patients would come out differently (the pattern counts only when it is used). */
function groupingChanged(view: SplitSettings, settings: SplitSettings): boolean {
  return (
    view.groupBy !== settings.groupBy || (settings.groupBy === 'regex' && view.groupPattern !== settings.groupPattern)
  );
}

/** True when the archive has its own test folder (a test hold-out then changes nothing). */
export function hasTestFolder(view: Pick<LoadedDataset, 'counts'>): boolean {
  return Object.values(view.counts.test).some((n) => n > 0);
}

/** Why the loaded images no longer fit the settings, so that Train loads them again; null when they fit. */
export function reloadReason(view: LoadedDataset, settings: Settings): string | null {
  if (view.size !== settings.imageSize) return `Images will be decoded again at ${settings.imageSize} px.`;
  const { testPercent, testPattern, validationPercent } = splitOptionsOf(settings);
  // Patients decide the splits, the health report and what the worker bootstraps over; the demo set's are fixed.
  if (view.source?.kind !== 'demo' && groupingChanged(view, settings)) {
    return `The dataset will be loaded again, grouping images ${GROUPING_TEXT[settings.groupBy]}.`;
  }
  // With a usable val folder the share is not used: nothing to load again.
  if (view.validationPercent !== validationPercent && view.validationPlan.source === 'held-out') {
    return `The dataset will be loaded again, holding out ${validationPercent}% of train for validation.`;
  }
  if (view.testPattern !== testPattern && !hasTestFolder(view)) {
    return testPattern
      ? `The dataset will be loaded again, holding out the train images whose file name matches ${testPattern} as the test split.`
      : 'The dataset will be loaded again, without the test hold-out pattern.';
  }
  if (view.testPercent !== testPercent && !testPattern && !hasTestFolder(view)) {
    return testPercent > 0
      ? `The dataset will be loaded again, holding out ${testPercent}% of train as the test split.`
      : 'The dataset will be loaded again, without a test hold-out.';
  }
  return null;
}
