/**
 * The first frame's samples, whatever its transfer syntax. Compressed pixels go to the @cornerstonejs WebAssembly
 * codecs (JPEG baseline/extended 8-bit: libjpeg-turbo, JPEG-LS: CharLS, JPEG 2000: OpenJPEG), dcmjs-codecs (JPEG
 * extended 12-bit, jpeg12.ts) or jpeg-lossless-decoder-js;
 * each is imported only when a file needs it, once a worker, and its .wasm is precached with the rest of the build.
 */
import charlsWasm from '@cornerstonejs/codec-charls/decodewasm?url';
import openjpegWasm from '@cornerstonejs/codec-openjpeg/decodewasm?url';
import libjpegWasm from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm?url';
import { DicomError, type DicomImage } from './parse';
import { decodeJpeg12 } from './jpeg12';
import { readJ2kSize, readJpegFrameHeader, type JpegFrameHeader } from './jpegFrame';
import { decodeRle } from './rle';

/** Stored words of one frame, one a pixel, in the low `bitsStored` bits. */
export type FrameWords = Uint8Array | Uint16Array;

/** Only in a browser does the codec need to be told where its .wasm is; in Node it reads the file beside it. */
const inBrowser = 'WorkerGlobalScope' in globalThis || 'document' in globalThis;

function locate(url: string) {
  return inBrowser ? { locateFile: (path: string) => (path.endsWith('.wasm') ? url : path) } : {};
}

type Decoder = CodecDecoder;
const loaded = new Map<string, Promise<() => Decoder>>();

/** One codec module a worker, loaded on first use. */
function codec(name: 'jpeg-ls' | 'jpeg-2000' | 'jpeg-baseline'): Promise<() => Decoder> {
  let promise = loaded.get(name);
  if (!promise) {
    promise = (async () => {
      switch (name) {
        case 'jpeg-ls': {
          const module = await (await import('@cornerstonejs/codec-charls/decodewasmjs')).default(locate(charlsWasm));
          return () => new module.JpegLSDecoder();
        }
        case 'jpeg-2000': {
          const module = await (
            await import('@cornerstonejs/codec-openjpeg/decodewasmjs')
          ).default(locate(openjpegWasm));
          return () => new module.J2KDecoder();
        }
        case 'jpeg-baseline': {
          const module = await (
            await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')
          ).default(locate(libjpegWasm));
          return () => new module.JPEGDecoder();
        }
      }
    })();
    // A codec that failed to load may load at the next file (a flaky network before it was cached).
    promise.catch(() => loaded.delete(name));
    loaded.set(name, promise);
  }
  return promise;
}

/** What a colour frame's samples hold once decoded, and in which order. */
export interface ColourLayout {
  space: 'RGB' | 'YBR_FULL' | 'YBR_FULL_422';
  /** All of the first sample, then the second, then the third; else interleaved a pixel at a time. */
  planar: boolean;
}

export interface DecodedFrame {
  words: FrameWords;
  /** For three-sample images; null for grey and palette images (one sample a pixel). */
  colour: ColourLayout | null;
}

/** The frame's words, or a DicomError that says why not. */
export async function decodeFrame(image: DicomImage): Promise<DecodedFrame> {
  return { words: await decodeSamples(image), colour: image.samplesPerPixel === 3 ? colourLayout(image) : null };
}

/**
 * Native data is as stored; RLE gives one plane a sample (one segment each); the JPEG, JPEG-LS and JPEG 2000 codecs
 * interleave, and JPEG's (YCbCr) and JPEG 2000's (ICT, RCT) colour transforms are undone by them: RGB.
 */
function colourLayout(image: DicomImage): ColourLayout {
  const stored = image.photometric === 'YBR_FULL' || image.photometric === 'YBR_FULL_422' ? image.photometric : 'RGB';
  switch (image.transferSyntax.codec) {
    case 'native':
      return { space: stored, planar: image.planar };
    case 'rle':
      return { space: stored, planar: true };
    case 'jpeg-baseline':
      return { space: 'RGB', planar: false };
    default:
      return { space: stored === 'YBR_FULL' ? 'YBR_FULL' : 'RGB', planar: false };
  }
}

async function decodeSamples(image: DicomImage): Promise<FrameWords> {
  const pixels = image.rows * image.columns;
  const wide = image.bitsAllocated === 16;
  switch (image.transferSyntax.codec) {
    case 'native':
      return wordsOf(image.frame, wide);
    case 'rle':
      return wordsOf(decodeRle(image.frame, pixels, wide ? 2 : 1, image.samplesPerPixel), wide);
    case 'jpeg-lossless':
      checkJpegFrame(image, 'JPEG lossless');
      return decodeJpegLossless(image, wide);
    case 'jpeg-baseline':
      return decodeJpeg(image);
    case 'jpeg-ls':
      checkJpegFrame(image, 'JPEG-LS');
      return decodeWithCodec(image, 'jpeg-ls');
    case 'jpeg-2000':
      checkJ2kSize(image);
      return decodeWithCodec(image, 'jpeg-2000');
  }
}

function checkJ2kSize(image: DicomImage): void {
  const size = readJ2kSize(image.frame);
  if (
    size &&
    (size.width !== image.columns || size.height !== image.rows || size.components !== image.samplesPerPixel)
  ) {
    throw new DicomError(
      `DICOM: the JPEG 2000 image is ${size.width} x ${size.height} with ${size.components} components; ` +
        `the header says ${image.columns} x ${image.rows} with ${image.samplesPerPixel}`,
    );
  }
}

/**
 * The JPEG stream's frame header, which must agree with the DICOM header before a codec sees the stream: the
 * 12-bit codec writes into a buffer of the DICOM header's size, and the lossless one allocates the stream's.
 */
function checkJpegFrame(image: DicomImage, what: string): JpegFrameHeader {
  const header = readJpegFrameHeader(image.frame);
  if (!header) throw new DicomError(`DICOM: the ${what} pixel data has no frame header`);
  if (header.width !== image.columns || header.height !== image.rows || header.components !== image.samplesPerPixel) {
    throw new DicomError(
      `DICOM: the ${what} image is ${header.width} x ${header.height} with ${header.components} components; ` +
        `the header says ${image.columns} x ${image.rows} with ${image.samplesPerPixel}`,
    );
  }
  return header;
}

/** JPEG baseline and extended: the frame header picks the codec, libjpeg-turbo for 8-bit samples, IJG for 12. */
async function decodeJpeg(image: DicomImage): Promise<FrameWords> {
  const header = checkJpegFrame(image, 'JPEG');
  if (header.precision === 8) return decodeWithCodec(image, 'jpeg-baseline');
  if (header.precision !== 12 || header.process > 2) {
    throw new DicomError(
      `DICOM: JPEG with ${header.precision}-bit samples (SOF${header.process}) is not supported (8 and 12 bits are)`,
    );
  }
  if (header.components !== 1 || image.bitsAllocated !== 16) {
    throw new DicomError(
      `DICOM: the 12-bit JPEG image has ${header.components} components in ${image.bitsAllocated} bits allocated; grey in 16 is read`,
    );
  }
  return decodeJpeg12(image);
}

function wordsOf(bytes: Uint8Array, wide: boolean): FrameWords {
  if (!wide) return bytes;
  // Aligned for a Uint16Array view; a copy only when the bytes start at an odd offset.
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  return new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 1);
}

async function decodeWithCodec(
  image: DicomImage,
  name: 'jpeg-ls' | 'jpeg-2000' | 'jpeg-baseline',
): Promise<FrameWords> {
  let make: () => Decoder;
  try {
    make = await codec(name);
  } catch (error) {
    throw new DicomError(
      `DICOM: the ${image.transferSyntax.name} decoder could not be loaded (${error instanceof Error ? error.message : error})`,
    );
  }
  const decoder = make();
  try {
    decoder.getEncodedBuffer(image.frame.length).set(image.frame);
    try {
      decoder.decode();
    } catch (error) {
      const detail = typeof error === 'number' ? '' : ` (${error instanceof Error ? error.message : String(error)})`;
      throw new DicomError(
        `DICOM: the ${image.transferSyntax.name} pixel data could not be decoded${detail.slice(0, 120)}`,
      );
    }
    const info = decoder.getFrameInfo();
    const samples = image.samplesPerPixel;
    if (info.width !== image.columns || info.height !== image.rows || info.componentCount !== samples) {
      throw new DicomError(
        `DICOM: the compressed image is ${info.width} x ${info.height} with ${info.componentCount} components; the header says ${image.columns} x ${image.rows} with ${samples}`,
      );
    }
    const decoded = decoder.getDecodedBuffer();
    const wide = info.bitsPerSample > 8;
    const bytes = image.rows * image.columns * samples * (wide ? 2 : 1);
    if (decoded.length < bytes)
      throw new DicomError(`DICOM: the ${image.transferSyntax.name} decoder gave too few samples`);
    // The decoded buffer is a view of the codec's memory, reused by the next frame: copied out.
    return wordsOf(decoded.slice(0, bytes), wide);
  } finally {
    decoder.delete();
  }
}

async function decodeJpegLossless(image: DicomImage, wide: boolean): Promise<FrameWords> {
  // Its colour path is 8-bit only.
  if (wide && image.samplesPerPixel === 3)
    throw new DicomError('DICOM: JPEG lossless colour with more than 8 bits a sample is not supported');
  const { Decoder } = await import('jpeg-lossless-decoder-js');
  let samples: ArrayBuffer;
  try {
    const frame = image.frame;
    samples = new Decoder().decode(frame.buffer as ArrayBuffer, frame.byteOffset, frame.byteLength, wide ? 2 : 1)
      .buffer as ArrayBuffer;
  } catch (error) {
    // Its own refusals are Errors with words; a TypeError or RangeError is it tripping over damaged data.
    const own = error instanceof Error && error.constructor === Error;
    throw new DicomError(
      `DICOM: the JPEG lossless pixel data could not be decoded (${own ? error.message.slice(0, 120) : 'it is damaged'})`,
    );
  }
  const count = image.rows * image.columns * image.samplesPerPixel;
  if (samples.byteLength < count * (wide ? 2 : 1))
    throw new DicomError('DICOM: the JPEG lossless pixel data is truncated');
  return wide ? new Uint16Array(samples, 0, count) : new Uint8Array(samples, 0, count);
}
