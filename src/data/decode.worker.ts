/// <reference lib="webworker" />
/**
 * Decode worker: one compressed image in, `size` x `size` grey bytes out, off the page's thread.
 * The browser's own decoders do the work, so every format the browser reads is read, with no decoder
 * shipped in the bundle. JPEGs go through WebCodecs' ImageDecoder with a desired size: the JPEG decoder
 * then decodes straight to 1/2, 1/4 or 1/8 scale in the DCT, several times faster than decoding a
 * multi-megapixel X-ray in full and shrinking it. Everything else, and browsers without ImageDecoder,
 * go through createImageBitmap. DICOM files (by their `DICM` marker, or a `.dcm` or extensionless name and a data set
 * at the start) go to dicom/decodeDicom.ts, whose codecs load only when a file needs them.
 */
import { assertNever } from '../core/assertNever';
import {
  decoderTransferables,
  type DecodeSkipReason,
  type DicomFacts,
  type FromDecoder,
  type ToDecoder,
} from './decodeProtocol';
import { readImageHeader, type SourceSize } from './imageHeader';
import { jpegDecodeSize } from './jpegScale';
import { mimeTypeOf } from './imageTypes';
import { EntryTooLargeError } from './zipErrors';
import { readEntryHead, readEntryRef } from './zipEntryBytes';
import { decodeDicom, hashPatientId } from './dicom/decodeDicom';
import { DicomError, readPatientId } from './dicom/parse';
import { bareDataSetEncoding, hasDicmMarker, hasDicomExtension } from './dicom/sniff';
import { IMAGE_EXTENSIONS, extensionOf } from './paths';
import { rgbaToGrey } from './grey';
import { crc32Of, pixelHash } from './imageHash';
import { meanImageDetail } from '../core/imageDetailSpec';

const scope = self as unknown as DedicatedWorkerGlobalScope;

/** One canvas a size, reused: allocating a canvas and context per image is slow. */
const contexts = new Map<number, OffscreenCanvasRenderingContext2D>();

function contextFor(size: number): OffscreenCanvasRenderingContext2D {
  let context = contexts.get(size);
  if (!context) {
    // willReadFrequently keeps the canvas in CPU memory, where getImageData is cheap.
    const created = new OffscreenCanvas(size, size).getContext('2d', { willReadFrequently: true, alpha: true });
    if (!created)
      throw new Error('This browser cannot draw images off the main thread (no OffscreenCanvas 2D context).');
    created.imageSmoothingQuality = 'high';
    context = created;
    contexts.set(size, context);
  }
  return context;
}

/** A decoded picture the canvas can draw, and how to free it. */
interface Frame {
  image: CanvasImageSource;
  close(): void;
}

/**
 * A JPEG decoded at the smallest DCT scale whose shorter side is still at least `size` (jpegDecodeSize), EXIF
 * orientation applied (the bitmap made of the frame keeps its rotation and flip). Null when ImageDecoder is
 * missing, refuses the file, or scales it below `size` all the same, so that createImageBitmap decodes it whole.
 */
async function decodeJpegScaled(bytes: Uint8Array, size: number, source: SourceSize | null): Promise<Frame | null> {
  if (typeof ImageDecoder === 'undefined') return null;
  const desired = source ? jpegDecodeSize(source, size) : null;
  let decoder: ImageDecoder | null = null;
  try {
    decoder = new ImageDecoder({
      data: bytes,
      type: 'image/jpeg',
      colorSpaceConversion: 'none',
      ...(desired ? { desiredWidth: desired.width, desiredHeight: desired.height } : {}),
    });
    const { image } = await decoder.decode();
    try {
      // Below the model's size (a decoder that scales otherwise) the canvas would enlarge it: decode it whole instead.
      const shorter = Math.min(image.displayWidth, image.displayHeight);
      if (desired && shorter < size) return null;
      // Drawn as a VideoFrame, every image went through the renderer's shared decoded-image cache, which kept up to
      // ~110 MiB of frames never drawn again (docs/benchmarks.md); an ImageBitmap is drawn as it is.
      const bitmap = await createImageBitmap(image);
      return { image: bitmap, close: () => bitmap.close() };
    } finally {
      image.close();
    }
  } catch {
    return null;
  } finally {
    decoder?.close();
  }
}

async function decodeBitmap(bytes: Uint8Array, type: string): Promise<Frame> {
  try {
    // Decoded whole and squashed to a square by the canvas (decodeToGrey), as a JPEG is: createImageBitmap's own
    // 'high' resize gives sharper images than the canvas's (docs/benchmarks.md, "The JPEG decode scale"), and one
    // film must reach the model alike whatever its format. EXIF orientation is applied; embedded colour profiles
    // are ignored, as PIL ignores them.
    const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }), {
      imageOrientation: 'from-image',
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
    return { image: bitmap, close: () => bitmap.close() };
  } catch (error) {
    // Chrome's own message ("The source image could not be decoded.") would only repeat ours.
    const detail = error instanceof Error ? error.message : '';
    const reason = detail && !/could not be decoded/i.test(detail) ? ` (${detail})` : '';
    throw new Error(
      `The image could not be decoded${reason}: the file may be damaged, or in a format this browser cannot read.`,
    );
  }
}

/** Where a DICOM file's patient is read from: the file's first bytes. */
const PATIENT_HEAD_BYTES = 256 * 1024;

/** True when the bytes are DICOM: the Part 10 marker, or a DICOM-like name over a bare data set. */
function isDicomFile(bytes: Uint8Array, name: string): boolean {
  if (hasDicmMarker(bytes)) return true;
  const extension = extensionOf(name.slice(name.lastIndexOf('/') + 1));
  return !IMAGE_EXTENSIONS.includes(extension) && (hasDicomExtension(name) || bareDataSetEncoding(bytes) !== null);
}

interface Grey {
  pixels: Uint8Array;
  source: SourceSize | null;
  dicom?: DicomFacts;
}

async function decodeToGrey(bytes: Uint8Array, declaredType: string, size: number, name: string): Promise<Grey> {
  if (bytes.length === 0) throw new Error('The file is empty.');
  if (isDicomFile(bytes, name)) {
    const { pixels, width, height, tags, patient } = await decodeDicom(bytes, size);
    return { pixels, source: { width, height }, dicom: { tags, patient } };
  }
  const { type, source } = readImageHeader(bytes, declaredType);
  const frame =
    (type === 'image/jpeg' ? await decodeJpegScaled(bytes, size, source) : null) ?? (await decodeBitmap(bytes, type));
  try {
    const context = contextFor(size);
    // Cleared so that transparent pixels come out black, not the previous image.
    context.clearRect(0, 0, size, size);
    context.drawImage(frame.image, 0, 0, size, size);
    return { pixels: rgbaToGrey(context.getImageData(0, 0, size, size).data), source };
  } finally {
    frame.close();
  }
}

/** Why a failure is skipped: a DICOM file's own reason, a zip bomb, or a file with no image extension that is none. */
function skipReasonOf(error: unknown, name: string): DecodeSkipReason | undefined {
  if (error instanceof EntryTooLargeError) return 'too-large';
  if (error instanceof DicomError) return 'dicom-unusable';
  const extension = extensionOf(name.slice(name.lastIndexOf('/') + 1));
  return IMAGE_EXTENSIONS.includes(extension) ? undefined : 'not-an-image';
}

function post(message: FromDecoder): void {
  scope.postMessage(message, decoderTransferables(message));
}

async function handle(message: Extract<ToDecoder, { type: 'decode' }>): Promise<void> {
  const name = message.zip
    ? message.zip.path
    : (message.name ?? (message.blob instanceof File ? message.blob.name : ''));
  try {
    const started = performance.now();
    // A zip entry is read and inflated here, in parallel with the other workers, off the page's thread.
    const bytes = message.zip ? await readEntryRef(message.zip) : new Uint8Array(await message.blob.arrayBuffer());
    const readMs = performance.now() - started;
    const declaredType = message.zip ? mimeTypeOf(message.zip.path) : message.blob.type;
    const { pixels, source, dicom } = await decodeToGrey(bytes, declaredType, message.size, name);
    // A zip entry's CRC-32 was declared by the archive and checked as it was read; a loose file's is computed.
    const fileCrc32 = message.zip ? message.zip.crc32 >>> 0 : crc32Of(bytes);
    post({
      type: 'decoded',
      id: message.id,
      pixels,
      sourceWidth: source?.width ?? 0,
      sourceHeight: source?.height ?? 0,
      bytesRead: bytes.length,
      readMs,
      fileCrc32,
      pixelHash: pixelHash(pixels),
      detail: meanImageDetail(pixels, message.size, message.size),
      ...(dicom ? { dicom } : {}),
    });
  } catch (error) {
    const skipReason = skipReasonOf(error, name);
    post({
      type: 'decodeFailed',
      id: message.id,
      message: error instanceof Error ? error.message : String(error),
      ...(skipReason ? { skipReason } : {}),
    });
  }
}

/** A DICOM file's hashed PatientID, from its head alone; null for anything else. */
async function handlePatient(message: Extract<ToDecoder, { type: 'patient' }>): Promise<void> {
  let patient: string | null = null;
  try {
    const head = message.zip
      ? await readEntryHead(message.zip, PATIENT_HEAD_BYTES)
      : new Uint8Array(await message.blob.slice(0, PATIENT_HEAD_BYTES).arrayBuffer());
    const id = head.length > 0 ? await readPatientId(head) : null;
    patient = id === null ? null : await hashPatientId(id);
  } catch {
    patient = null; // The decode reports what is wrong with the file.
  }
  post({ type: 'patient', id: message.id, patient });
}

scope.onmessage = (event: MessageEvent<ToDecoder>) => {
  const message = event.data;
  switch (message.type) {
    case 'decode':
      void handle(message);
      break;
    case 'patient':
      void handlePatient(message);
      break;
    default:
      assertNever(message);
  }
};
