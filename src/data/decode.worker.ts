/// <reference lib="webworker" />
/**
 * Decode worker: one compressed image in, `size` x `size` grey bytes out, off the page's thread.
 * The browser's own decoders do the work (createImageBitmap), so every format the browser reads
 * is read, with no decoder shipped in the bundle.
 */
import { assertNever, transferablesOf, type FromDecoder, type ToDecoder } from '../worker/protocol';
import { rgbaToGrey } from './grey';

const scope = self as unknown as DedicatedWorkerGlobalScope;

/** One canvas a size, reused: allocating a canvas and context per image is slow. */
const contexts = new Map<number, OffscreenCanvasRenderingContext2D>();

function contextFor(size: number): OffscreenCanvasRenderingContext2D {
  let context = contexts.get(size);
  if (!context) {
    // willReadFrequently keeps the canvas in CPU memory, where getImageData is cheap.
    const created = new OffscreenCanvas(size, size).getContext('2d', { willReadFrequently: true, alpha: true });
    if (!created) throw new Error('This browser cannot draw images off the main thread (no OffscreenCanvas 2D context).');
    context = created;
    contexts.set(size, context);
  }
  return context;
}

async function decodeToGrey(blob: Blob, size: number): Promise<Uint8Array> {
  if (blob.size === 0) throw new Error('The file is empty.');
  let bitmap: ImageBitmap;
  try {
    // Squashed to a square like Keras' target_size (no crop, no letterbox). EXIF orientation is
    // applied; embedded colour profiles are ignored, as PIL ignores them. When the image already is
    // size x size the browser does not resample it, so its pixels come through unchanged.
    bitmap = await createImageBitmap(blob, {
      resizeWidth: size,
      resizeHeight: size,
      resizeQuality: 'high',
      imageOrientation: 'from-image',
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch (error) {
    // Chrome's own message ("The source image could not be decoded.") would only repeat ours.
    const detail = error instanceof Error ? error.message : '';
    const reason = detail && !/could not be decoded/i.test(detail) ? ` (${detail})` : '';
    throw new Error(`The image could not be decoded${reason}: the file may be damaged, or in a format this browser cannot read.`);
  }
  try {
    const context = contextFor(size);
    // Cleared so that transparent pixels come out black, not the previous image.
    context.clearRect(0, 0, size, size);
    context.drawImage(bitmap, 0, 0);
    return rgbaToGrey(context.getImageData(0, 0, size, size).data);
  } finally {
    bitmap.close();
  }
}

function post(message: FromDecoder): void {
  scope.postMessage(message, transferablesOf(message));
}

async function handle(message: ToDecoder): Promise<void> {
  try {
    const pixels = await decodeToGrey(message.blob, message.size);
    post({ type: 'decoded', id: message.id, pixels });
  } catch (error) {
    post({ type: 'decodeFailed', id: message.id, message: error instanceof Error ? error.message : String(error) });
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
