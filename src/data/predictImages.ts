/**
 * Images a person gives the Predict section: loose files, a folder, or zips of them, each decoded to grey
 * pixels at the model's input size exactly as training images are (the same decode workers). A file that is
 * not an image, or does not decode, is listed with its reason and the rest go on.
 */
import { listZip, looksLikeZip, type ArchiveEntry } from './archive';
import { DecodePool, type DecodedImage } from './decodePool';
import { listFiles } from './looseFiles';
import { mimeTypeOf } from './imageTypes';
import { IMAGE_EXTENSIONS, extensionOf, mayBeDicomName } from './paths';
import { fileNameOf } from './patients';
import { hasDicomExtension, isDicom } from './dicom/sniff';

export interface ImagesToPredict {
  /** Each image's path (a zip's entries under the zip's name). */
  names: string[];
  /** `names.length` grey images of `size` px, one byte a pixel, image after image. */
  pixels: Uint8Array;
  size: number;
  skipped: { name: string; reason: string }[];
}

/** The most images one Predict takes (their pixels, maps and table rows stay in the page). */
export const MAX_PREDICT_IMAGES = 5000;

/** Picked files, or a drop's files and folders (looseFiles.ts: `listFiles`, `entriesFromDrop`). */
export type PredictSource = File[] | ArchiveEntry[];

function entriesOf(source: PredictSource): ArchiveEntry[] {
  return source.length > 0 && source[0] instanceof Blob ? listFiles(source as File[]) : (source as ArchiveEntry[]);
}

const NOT_AN_IMAGE = 'not an image file (.jpeg, .png, .bmp, .webp, .gif, DICOM)';

/** A `.dcm` file, or a file without an image extension whose bytes are DICOM. */
async function isDicomFile(path: string, file: Blob): Promise<boolean> {
  const name = fileNameOf(path);
  if (!mayBeDicomName(name) || IMAGE_EXTENSIONS.includes(extensionOf(name))) return false;
  if (hasDicomExtension(name)) return true;
  return isDicom(new Uint8Array(await file.slice(0, 1024).arrayBuffer()));
}

/** Lists the images in `source` (zips opened): entries to decode, and what was skipped. */
export async function listImagesToPredict(
  source: PredictSource,
): Promise<{ entries: ArchiveEntry[]; skipped: ImagesToPredict['skipped'] }> {
  const entries: ArchiveEntry[] = [];
  const skipped: ImagesToPredict['skipped'] = [];
  for (const entry of entriesOf(source)) {
    if (entry.directory) continue;
    const file = await entry.read();
    if (/\.zip$/i.test(entry.path) || (mimeTypeOf(entry.path) === '' && (await looksLikeZip(file)))) {
      try {
        for (const inner of await listZip(file)) {
          if (inner.directory || /(^|\/)(__MACOSX|\.)/.test(inner.path)) continue;
          const named = { ...inner, path: `${entry.path}/${inner.path}` };
          if (inner.skip) skipped.push({ name: named.path, reason: inner.skip.detail });
          // A DICOM-like name is decoded: the worker says if it is no DICOM file.
          else if (mimeTypeOf(inner.path) || mayBeDicomName(fileNameOf(inner.path))) entries.push(named);
          else skipped.push({ name: named.path, reason: NOT_AN_IMAGE });
        }
      } catch (error) {
        skipped.push({ name: entry.path, reason: error instanceof Error ? error.message : String(error) });
      }
    } else if (mimeTypeOf(entry.path) || file.type.startsWith('image/') || (await isDicomFile(entry.path, file))) {
      entries.push(entry);
    } else {
      skipped.push({ name: entry.path, reason: `${NOT_AN_IMAGE} or a zip of them` });
    }
  }
  return { entries, skipped };
}

/** Decodes `files`' images at `size` px; `onProgress(done, total)` as they come. */
export async function decodeImagesToPredict(
  files: PredictSource,
  size: number,
  onProgress?: (done: number, total: number) => void,
  pool: { decodeSource: DecodePool['decodeSource']; dispose(): void } = new DecodePool(),
): Promise<ImagesToPredict> {
  try {
    const { entries, skipped } = await listImagesToPredict(files);
    const kept = entries.slice(0, MAX_PREDICT_IMAGES);
    for (const extra of entries.slice(MAX_PREDICT_IMAGES))
      skipped.push({ name: extra.path, reason: `more than ${MAX_PREDICT_IMAGES} images at once` });
    let done = 0;
    const decoded = await Promise.all(
      kept.map(async (entry): Promise<DecodedImage | Error> => {
        try {
          const image = await pool.decodeSource(
            entry.zip ? { zip: entry.zip } : { blob: await entry.read(), name: entry.path },
            size,
          );
          return image;
        } catch (error) {
          return error instanceof Error ? error : new Error(String(error));
        } finally {
          onProgress?.(++done, kept.length);
        }
      }),
    );
    const names: string[] = [];
    const images: Uint8Array[] = [];
    decoded.forEach((result, i) => {
      if (result instanceof Error) skipped.push({ name: kept[i].path, reason: result.message });
      else {
        names.push(kept[i].path);
        images.push(result.pixels);
      }
    });
    const area = size * size;
    const pixels = new Uint8Array(images.length * area);
    images.forEach((image, i) => pixels.set(image, i * area));
    return { names, pixels, size, skipped };
  } finally {
    pool.dispose();
  }
}
