/**
 * JPEG with 12-bit samples (extended, process 4: transfer syntax 1.2.840.10008.1.2.4.51), which libjpeg-turbo's
 * codec cannot read: dcmjs-codecs, DCMTK's IJG 12-bit decoder as WebAssembly (the decoder `dcmdjpeg` uses, so the
 * samples equal DCMTK's). Imported the first time a file needs it, once a worker; its .wasm is precached.
 *
 * Two things about that build are worked around here:
 * - an error inside it is thrown through the WebAssembly stack without unwinding it, and after about 30 errors the
 *   instance corrupts itself ("null function or function signature mismatch"): after any error the instance is
 *   dropped and the next file gets a fresh one from the same bytes;
 * - in a browser it fetches its .wasm through `eval`, which this app's policy forbids: its byte loader is replaced by
 *   a plain fetch of the URL Vite gives (in Node it reads the file beside it, as it does by itself).
 */
import wasmUrl from 'dcmjs-codecs/build/dcmjs-native-codecs.wasm?url';
import { DicomError, type DicomImage } from './parse';

type Codecs = typeof import('dcmjs-codecs');
type NativeCodecs = Codecs['NativeCodecs'] & { _getWebAssemblyBytes(): Promise<ArrayBuffer> };

const inBrowser = 'WorkerGlobalScope' in globalThis || 'document' in globalThis;

let module: Promise<Codecs> | null = null;
/** A ready instance, or null when there is none or the last one saw an error. */
let ready: Promise<void> | null = null;

function load(): Promise<Codecs> {
  module ??= (async () => {
    // A webpack UMD bundle: Node's ESM loader sees only its default export, Vite's interop gives both.
    const imported = (await import('dcmjs-codecs')) as Codecs & { default?: Codecs };
    const codecs = imported.default ?? imported;
    const native = codecs.NativeCodecs as NativeCodecs;
    const own = native._getWebAssemblyBytes.bind(native);
    let bytes: Promise<ArrayBuffer> | null = null;
    native._getWebAssemblyBytes = () =>
      (bytes ??= inBrowser
        ? fetch(wasmUrl).then((response) => {
            if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
            return response.arrayBuffer();
          })
        : own());
    return codecs;
  })();
  module.catch(() => (module = null));
  return module;
}

async function instance(): Promise<Codecs> {
  const codecs = await load();
  ready ??= codecs.NativeCodecs.initializeAsync();
  ready.catch(() => (ready = null));
  await ready;
  return codecs;
}

/**
 * The frame's 12-bit samples, one a 16-bit word. The caller has checked the stream's frame header against the
 * DICOM header (size, one component, 12 bits): the decoder writes into a buffer of the size it is given.
 */
export async function decodeJpeg12(image: DicomImage): Promise<Uint16Array> {
  let codecs: Codecs;
  try {
    codecs = await instance();
  } catch (error) {
    throw new DicomError(
      `DICOM: the 12-bit JPEG decoder could not be loaded (${error instanceof Error ? error.message : error})`,
    );
  }
  const context = new codecs.Context({
    width: image.columns,
    height: image.rows,
    bitsAllocated: 16,
    bitsStored: 12,
    samplesPerPixel: 1,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: 'MONOCHROME2',
    encodedBuffer: image.frame,
  });
  let decoded: Uint8Array | undefined;
  try {
    decoded = codecs.NativeCodecs.decodeJpeg(context).getDecodedBuffer();
  } catch (error) {
    ready = null;
    const detail = error instanceof Error ? error.message.replace(/^[\w:]*::/, '').slice(0, 120) : '';
    throw new DicomError(`DICOM: the 12-bit JPEG pixel data could not be decoded${detail ? ` (${detail})` : ''}`);
  }
  const pixels = image.rows * image.columns;
  if (!decoded || decoded.byteLength < pixels * 2)
    throw new DicomError('DICOM: the 12-bit JPEG decoder gave fewer samples than the image has');
  // Already a copy out of the codec's memory; aligned unless the library changes.
  const aligned = decoded.byteOffset % 2 === 0 ? decoded : decoded.slice();
  return new Uint16Array(aligned.buffer, aligned.byteOffset, pixels);
}
