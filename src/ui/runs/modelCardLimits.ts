/**
 * The model card's known limits, from what the data and the evaluation show (few sources, unknown patients, no test
 * split, few images, validation and test disagreeing), and the file-name series that stand for an image's source.
 */
import { decodedAsNow, decodeFixLimitText } from '../../core/inputDecoding';
import type { ManifestRow, ModelMetadata, SplitName } from '../../core/types';
import type { EvaluationReport } from '../../eval/report';
import { SHORTCUT_AUC } from '../../data/classShortcuts';
import type { CardDataset } from './modelCardTypes';

/**
 * A file name's series: its shape with every number a `#` and no extension (`person#_bacteria_#`, `IM-#-#`,
 * `NORMAL#-IM-#-#`). Images of one series usually come from one source; a model can learn the source.
 */
export function seriesOfName(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const stem = name.includes('.') && !/^[\d.]+$/.test(name) ? name.slice(0, name.lastIndexOf('.')) : name;
  return stem.replace(/\d+/g, '#').slice(0, 60);
}

export function seriesOf(rows: readonly ManifestRow[]): Record<string, Record<SplitName, number>> {
  const series: Record<string, Record<SplitName, number>> = {};
  for (const row of rows) {
    const key = seriesOfName(row.path);
    series[key] ??= { train: 0, validation: 0, test: 0 };
    series[key][row.split] += 1;
  }
  return series;
}

export function knownLimits(
  dataset: CardDataset | null,
  report: EvaluationReport | null,
  metadata: Pick<ModelMetadata, 'inputDecoding' | 'imageSize'>,
): string[] {
  const limits = [
    'Images are squashed to a square and turned grey; anything the model needs beyond that resolution is lost.',
    'Its figures hold for images like its test images only: another hospital, machine, population (children or adults), view or disease mix can make it fail without warning.',
  ];
  if (!decodedAsNow(metadata.inputDecoding)) limits.push(decodeFixLimitText(metadata.imageSize));
  if (!dataset)
    limits.push('The data it was trained on was not loaded when this card was written: its counts are not known here.');
  else {
    const series = Object.keys(seriesOf(dataset.manifest ?? []));
    if (series.length <= 3)
      limits.push(`Its images come from few file-name series (${series.join(', ') || 'none'}), likely one source.`);
    if (!dataset.health.patients)
      limits.push(
        'Patients were not known: images of one patient may be on both sides of a split, which flatters the figures.',
      );
    // A stored run's health is outside input: only well-formed findings are quoted.
    for (const s of dataset.health.shortcuts ?? []) {
      if (!(s.separation >= SHORTCUT_AUC) || !Number.isFinite(s.ratio) || typeof s.className !== 'string') continue;
      const what = s.property === 'detail' ? 'fine detail at its input' : 'stored size';
      const others =
        typeof s.otherClass === 'string' ? `${s.otherClass.slice(0, 60)} films` : "the other classes' films";
      limits.push(
        `In its training data, ${what} alone told ${s.className.slice(0, 60)} films from ${others} apart (AUC ` +
          `${s.separation.toFixed(2)}; ${s.className.slice(0, 60)} ${s.ratio.toFixed(2)} times theirs): where films ` +
          `differ in ${what} for other reasons (scanner, processing, resolution), the model may misread them.`,
      );
    }
  }
  if (!report) limits.push('No evaluation was reported: its figures are unknown.');
  else {
    if (!report.test)
      limits.push(
        'There was no test split: the figures are on the validation split that also chose the threshold, and are optimistic.',
      );
    const reported = report.test ?? report.validation;
    if (reported.count < 200) limits.push(`The figures rest on ${reported.count} images: their intervals are wide.`);
    for (const shift of report.shift)
      limits.push(
        `Validation and test disagree on ${shift.metric} beyond their intervals (${fmt(shift.validation)} vs ${fmt(shift.test)}).`,
      );
  }
  return limits;
}

/** A figure to three decimals, or n/a when there is none. */
export function fmt(value: number | null): string {
  return value === null || !Number.isFinite(value) ? 'n/a' : value.toFixed(3);
}
