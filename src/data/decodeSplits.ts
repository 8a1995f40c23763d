/**
 * Reads and decodes the images of every split, a few at a time, straight into one preallocated buffer a
 * split; keeps what the health report needs of each image (its fingerprints and stored size), never its bytes.
 */
import type { TimeSlicer } from '../core/timeSlicer';
import type { ImageSet, SplitName } from '../core/types';
import type { DecodedImage } from './decodePool';
import type { DicomTags } from './dicom/tags';
import { DatasetError } from './errors';
import { fileKey } from './imageHash';
import type { ImageEntry } from './types';

/** What the health report knows of one decoded image beyond its pixels. */
export interface DecodedFacts {
  /** Size and CRC-32 of its file (imageHash.ts fileKey); null when the decoder did not say. */
  file: string | null;
  /** Hash of its grey pixels at the decoded size; null when the decoder did not say. */
  pixels: string | null;
  /** The stored image's size from its header; 0 when unknown. */
  width: number;
  height: number;
  /** Its fine detail at the decoded size (the health report's); null when the decoder did not say. */
  detail: number | null;
  /** A DICOM file's shown tags. */
  dicom?: DicomTags;
}

export interface DecodedSplit {
  set: ImageSet;
  /** The entry of each image of `set`, in order (failed images left out). */
  entries: ImageEntry[];
  facts: DecodedFacts[];
}

/** What reading and decoding cost, summed over images (for LoadStats). */
export interface DecodeMeter {
  bytesRead: number;
  readMs: number;
  sourcePixels: number;
}

/** Reads and decodes one image, wherever it lies. */
export type DecodeEntryFn = (entry: ImageEntry, size: number) => Promise<DecodedImage>;

export interface DecodeRun {
  decodeEntry: DecodeEntryFn;
  concurrency: number;
  signal?: AbortSignal;
  meter: DecodeMeter;
  onFailed: (entry: ImageEntry, error: unknown) => void;
  onProgress: (done: number, total: number) => void;
  /** Awaited between the splits' buffers (a split of 4,000 images at 150 px is 90 MB, zeroed as it is made). */
  slice?: TimeSlicer;
}

/**
 * Decodes every split with at most `concurrency` images in flight, each read just before it is
 * decoded, its pixels written at its place in the split's buffer. Failed images leave a gap that is
 * closed at the end, so the order of each split is its input order whatever finished first.
 */
export async function decodeSplits(
  splits: Record<SplitName, ImageEntry[]>,
  classNames: string[],
  size: number,
  run: DecodeRun,
): Promise<Record<SplitName, DecodedSplit>> {
  const area = size * size;
  const labelOf = new Map(classNames.map((name, i) => [name, i]));
  const names: SplitName[] = ['train', 'validation', 'test'];
  const buffers: { entries: ImageEntry[]; pixels: Uint8Array; ok: Uint8Array; facts: DecodedFacts[] }[] = [];
  for (const split of names) {
    buffers.push({
      entries: splits[split],
      pixels: new Uint8Array(splits[split].length * area),
      ok: new Uint8Array(splits[split].length),
      facts: new Array<DecodedFacts>(splits[split].length),
    });
    await run.slice?.();
  }
  const jobs = buffers.flatMap((buffer) => buffer.entries.map((_, i) => ({ buffer, i })));
  const total = jobs.length;
  let next = 0;
  let done = 0;
  let stop: unknown = null;
  run.onProgress(0, total);

  const worker = async () => {
    while (next < jobs.length && stop === null) {
      const { buffer, i } = jobs[next++];
      const entry = buffer.entries[i];
      try {
        run.signal?.throwIfAborted();
        const {
          pixels,
          sourceWidth,
          sourceHeight,
          bytesRead = 0,
          readMs = 0,
          fileCrc32,
          pixelHash,
          detail,
          dicom,
        } = await run.decodeEntry(entry, size);
        run.signal?.throwIfAborted();
        run.meter.readMs += readMs;
        run.meter.bytesRead += bytesRead;
        run.meter.sourcePixels += sourceWidth * sourceHeight;
        if (pixels.length !== area) throw new Error(`The decoder returned ${pixels.length} pixels instead of ${area}.`);
        buffer.pixels.set(pixels, i * area);
        buffer.ok[i] = 1;
        buffer.facts[i] = {
          file: fileCrc32 === undefined ? null : fileKey(bytesRead, fileCrc32),
          pixels: pixelHash ?? null,
          width: sourceWidth,
          height: sourceHeight,
          // The one place an unknown detail (none sent, or NaN: an image too small) becomes null.
          detail: detail !== undefined && Number.isFinite(detail) ? detail : null,
          ...(dicom ? { dicom: dicom.tags } : {}),
        };
      } catch (error) {
        // Aborts and dataset-wide failures (a crashed decoder) end the load; a bad image is skipped.
        if (run.signal?.aborted || error instanceof DatasetError) {
          stop ??= run.signal?.aborted ? run.signal.reason : error;
          return;
        }
        run.onFailed(entry, error);
      }
      run.onProgress(++done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(run.concurrency, total)) }, worker));
  if (stop !== null) throw stop;

  const result = {} as Record<SplitName, DecodedSplit>;
  names.forEach((split, s) => {
    const { entries, pixels, ok, facts } = buffers[s];
    const kept = entries.flatMap((_, i) => (ok[i] ? [i] : []));
    const set: ImageSet = { size, count: kept.length, pixels, labels: new Uint8Array(kept.length) };
    if (kept.length < entries.length) {
      set.pixels = new Uint8Array(kept.length * area);
      kept.forEach((from, to) => set.pixels.set(pixels.subarray(from * area, (from + 1) * area), to * area));
    }
    kept.forEach((from, to) => (set.labels[to] = labelOf.get(entries[from].className)!));
    result[split] = { set, entries: kept.map((i) => entries[i]), facts: kept.map((i) => facts[i]) };
  });
  return result;
}
