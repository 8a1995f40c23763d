/**
 * What a load reports of its decoded images: why an image was skipped, each image's facts for the health report,
 * the images per split folder and class, and the DICOM files among them.
 */
import type { SplitName } from '../core/types';
import { EntryTooLargeError } from './zipErrors';
import { emptyCounts } from './datasetIndex';
import { DecodeSkipError } from './decodePool';
import type { DecodedSplit } from './decodeSplits';
import type { ImageFacts } from './health';
import type { DicomSummary, SkipReason, SplitCounts } from './types';

/** The reason a skipped image is listed under. */
export function skipReasonOf(error: unknown): SkipReason {
  if (error instanceof EntryTooLargeError) return 'too-large';
  if (error instanceof DecodeSkipError) return error.reason;
  return 'decode-failed';
}

/** How many decoded images are DICOM, and of which modality. */
export function dicomSummary(decoded: Record<SplitName, DecodedSplit>): DicomSummary | null {
  const modalities: Record<string, number> = {};
  let images = 0;
  for (const split of ['train', 'validation', 'test'] as const) {
    for (const facts of decoded[split].facts) {
      if (!facts.dicom) continue;
      images += 1;
      const modality = facts.dicom.modality || 'unknown';
      modalities[modality] = (modalities[modality] ?? 0) + 1;
    }
  }
  return images > 0 ? { images, modalities } : null;
}

/** The health report's facts of every decoded image, train then validation then test. */
export function factsOf(
  decoded: Record<SplitName, DecodedSplit>,
  folderOf: Map<string, SplitName>,
  keyOf: ((path: string) => string | null) | null,
): ImageFacts[] {
  return (['train', 'validation', 'test'] as const).flatMap((split) =>
    decoded[split].entries.map((entry, i) => ({
      path: entry.path,
      folder: folderOf.get(entry.path) ?? entry.split,
      split,
      className: entry.className,
      patient: keyOf?.(entry.path) ?? null,
      ...decoded[split].facts[i],
    })),
  );
}

/** Images per split folder and class, of those decoded: what the summary and the count plots show. */
export function countDecoded(facts: readonly ImageFacts[], classNames: readonly string[]): SplitCounts {
  const counts = emptyCounts(classNames);
  for (const fact of facts) counts[fact.folder][fact.className] += 1;
  return counts;
}
