/// <reference lib="webworker" />
/**
 * Decode worker: one compressed image in, `size` x `size` grey bytes out, off the page's thread.
 * The browser's own decoders do the work, so every format the browser reads is read, with no decoder
 * shipped in the bundle. JPEGs go through WebCodecs' ImageDecoder with a desired size: the JPEG decoder
 * then decodes straight to 1/2, 1/4 or 1/8 scale in the DCT, several times faster than decoding a
 * multi-megapixel X-ray in full and shrinking it. Everything else, and browsers without ImageDecoder,
 * go through createImageBitmap.
 */
import { assertNever } from '../core/assertNever';
import { decoderTransferables, type FromDecoder, type ToDecoder } from './decodeProtocol';
import { readImageHeader, type SourceSize } from './imageHeader';
import { mimeTypeOf } from './imageTypes';
import { EntryTooLargeError } from './zipErrors';
import { readEntryRef } from './zipEntryBytes';
import { rgbaToGrey } from './grey';
import { crc32Of, pixelHash } from './imageHash';

const scope = self as unknown as DedicatedWorkerGlobalScope;

/** One canvas a size, reused: allocating a canvas and context per image is slow. */
const contexts = new Map<number, OffscreenCanvasRenderingContext2D>();

function contextFor(size: number): OffscreenCanvasRenderingContext2D {
  let context = contexts.get(size);
  if (!context) {
    // willReadFrequently keeps the canvas in CPU memory, where getImageData is cheap.
    const created = new OffscreenCanvas(size, size).getContext('2d', { willReadFrequently: true, alpha: true });
    if (!created) throw new Error('This browser cannot draw images off the main thread (no OffscreenCanvas 2D context).');
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
 * A JPEG decoded at the smallest DCT scale whose shorter side is still at least `size`, EXIF
 * orientation applied (drawImage honours the frame's rotation and flip). Null when ImageDecoder is
 * missing or refuses the file, so that createImageBitmap gets its chance.
 */
async function decodeJpegScaled(bytes: Uint8Array, size: number, source: SourceSize | null): Promise<Frame | null> {
  if (typeof ImageDecoder === 'undefined') return null;
  const scale = source ? Math.min(1, size / Math.min(source.width, source.height)) : 1;
  let decoder: ImageDecoder | null = null;
  try {
    decoder = new ImageDecoder({
      data: bytes,
      type: 'image/jpeg',
      colorSpaceConversion: 'none',
      ...(source ? { desiredWidth: Math.ceil(source.width * scale), desiredHeight: Math.ceil(source.height * scale) } : {}),
    });
    const { image } = await decoder.decode();
    return { image, close: () => image.close() };
  } catch {
    return null;
  } finally {
    decoder?.close();
  }
}

async function decodeBitmap(bytes: Uint8Array, type: string, size: number): Promise<Frame> {
  try {
    // Squashed to a square like Keras' target_size (no crop, no letterbox). EXIF orientation is
    // applied; embedded colour profiles are ignored, as PIL ignores them. When the image already is
    // size x size the browser does not resample it, so its pixels come through unchanged.
    const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }), {
      resizeWidth: size,
      resizeHeight: size,
      resizeQuality: 'high',
      imageOrientation: 'from-image',
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
    return { image: bitmap, close: () => bitmap.close() };
  } catch (error) {
    // Chrome's own message ("The source image could not be decoded.") would only repeat ours.
    const detail = error instanceof Error ? error.message : '';
    const reason = detail && !/could not be decoded/i.test(detail) ? ` (${detail})` : '';
    throw new Error(`The image could not be decoded${reason}: the file may be damaged, or in a format this browser cannot read.`);
  }
}

async function decodeToGrey(bytes: Uint8Array, declaredType: string, size: number): Promise<{ pixels: Uint8Array; source: SourceSize | null }> {
  const { type, source } = readImageHeader(bytes, declaredType);
  const frame = (type === 'image/jpeg' ? await decodeJpegScaled(bytes, size, source) : null) ?? (await decodeBitmap(bytes, type, size));
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

function post(message: FromDecoder): void {
  scope.postMessage(message, decoderTransferables(message));
}

async function handle(message: ToDecoder): Promise<void> {
  try {
    const started = performance.now();
    // A zip entry is read and inflated here, in parallel with the other workers, off the page's thread.
    const bytes = message.zip ? await readEntryRef(message.zip) : new Uint8Array(await message.blob.arrayBuffer());
    const readMs = performance.now() - started;
    const declaredType = message.zip ? mimeTypeOf(message.zip.path) : message.blob.type;
    const { pixels, source } = await decodeToGrey(bytes, declaredType, message.size);
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
    });
  } catch (error) {
    post({
      type: 'decodeFailed',
      id: message.id,
      message: error instanceof Error ? error.message : String(error),
      ...(error instanceof EntryTooLargeError ? { tooLarge: true } : {}),
    });
  }
}

scope.onmessage = (event: MessageEvent<ToDecoder>) => {
  const message = event.data;
  switch (message.type) {
    case 'decode':
      void handle(message);
      break;
    default:
      assertNever(message.type);
  }
};
