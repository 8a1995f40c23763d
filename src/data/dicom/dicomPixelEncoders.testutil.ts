/**
 * The compressed pixel data of the tests' DICOM files (dicomFiles.testutil.ts), a frame at a time: JPEG-LS and
 * JPEG 2000 from the codec packages' own encoders (CharLS, OpenJPEG), JPEG baseline from PIL (libjpeg-turbo's encoder
 * fails in Node), JPEG lossless from dcmjs-codecs, and RLE here (the standard's PackBits-like runs).
 */
import { spawnSync } from 'node:child_process';
import charlsFactory from '@cornerstonejs/codec-charls';
import openjpegFactory from '@cornerstonejs/codec-openjpeg';
import dcmjsCodecs from 'dcmjs-codecs';

/** What the encoders need to know of a frame (a DicomSpec has it). */
export interface FrameLayout {
  width: number;
  height: number;
  samplesPerPixel?: number;
  signed?: boolean;
  photometric?: string;
}

/** Codec encoders, loaded once. */
let encoders: Promise<{
  charls: Awaited<ReturnType<typeof charlsFactory>>;
  openjpeg: Awaited<ReturnType<typeof openjpegFactory>>;
}> | null = null;
function loadEncoders() {
  encoders ??= Promise.all([charlsFactory(), openjpegFactory()]).then(([charls, openjpeg]) => ({ charls, openjpeg }));
  return encoders;
}

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
/** libjpeg-turbo's encoder in @cornerstonejs/codec-libjpeg-turbo-8bit 1.2.8 fails in Node; PIL writes grey JPEGs. */
export const canWriteJpeg = spawnSync(PYTHON, ['-c', 'import PIL'], { stdio: 'ignore' }).status === 0;

function encodeJpegWithPil(frame: Uint8Array, width: number, height: number, samples: number): Uint8Array {
  // Colour as PIL writes it: YCbCr, chroma subsampled 2x2 unless asked otherwise (here 4:4:4 for exact tests).
  const mode = samples === 3 ? 'RGB' : 'L';
  const script =
    'import sys, io; from PIL import Image; b = sys.stdin.buffer.read(); o = io.BytesIO(); ' +
    `Image.frombytes('${mode}', (${width}, ${height}), b).save(o, 'JPEG', quality=95, subsampling=0); ` +
    'sys.stdout.buffer.write(o.getvalue())';
  const run = spawnSync(PYTHON, ['-c', script], { input: frame });
  if (run.status !== 0) throw new Error(`PIL could not write a JPEG: ${run.stderr}`);
  return new Uint8Array(run.stdout);
}

/** RLE (PS3.5 G.3): one segment a byte plane, most significant first, as literal runs of up to 128 bytes. */
export function encodeRle(
  frame: Uint8Array,
  pixels: number,
  bytesPerSample: number,
  samples = 1,
  planar = false,
): Uint8Array {
  const segments: number[][] = [];
  for (let s = 0; s < bytesPerSample * samples; s++) {
    const sample = Math.floor(s / bytesPerSample);
    const plane = bytesPerSample - 1 - (s % bytesPerSample);
    // Byte `plane` of sample `sample` of pixel p, interleaved or planar as the frame is stored.
    const at = (p: number) => (planar ? sample * pixels + p : p * samples + sample) * bytesPerSample + plane;
    const out: number[] = [];
    for (let p = 0; p < pixels;) {
      // A repeat run where three or more bytes repeat, else a literal run.
      const value = frame[at(p)];
      let run = 1;
      while (p + run < pixels && run < 128 && frame[at(p + run)] === value) run++;
      if (run >= 3) {
        out.push(257 - run, value);
        p += run;
        continue;
      }
      const count = Math.min(128, pixels - p);
      out.push(count - 1);
      for (let k = 0; k < count; k++) out.push(frame[at(p + k)]);
      p += count;
    }
    if (out.length % 2) out.push(0x80);
    segments.push(out);
  }
  const header = new DataView(new ArrayBuffer(64));
  header.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((segment, s) => {
    header.setUint32(4 + 4 * s, offset, true);
    offset += segment.length;
  });
  return new Uint8Array([...new Uint8Array(header.buffer), ...segments.flat()]);
}

export async function encodeWithCodec(
  encoding: 'jpeg-ls' | 'jpeg-2000' | 'jpeg-baseline',
  frame: Uint8Array,
  spec: FrameLayout,
  bitsStored: number,
): Promise<Uint8Array> {
  if (encoding === 'jpeg-baseline') return encodeJpegWithPil(frame, spec.width, spec.height, spec.samplesPerPixel ?? 1);
  const { charls, openjpeg } = await loadEncoders();
  const encoder = encoding === 'jpeg-ls' ? new charls.JpegLSEncoder() : new openjpeg.J2KEncoder();
  try {
    const info = {
      width: spec.width,
      height: spec.height,
      bitsPerSample: bitsStored,
      componentCount: spec.samplesPerPixel ?? 1,
      isSigned: !!spec.signed,
    };
    encoder.getDecodedBuffer(info).set(frame);
    encoder.encode();
    return encoder.getEncodedBuffer().slice();
  } finally {
    encoder.delete();
  }
}

let losslessEncoder: Promise<void> | null = null;

/** JPEG lossless (process 14) with dcmjs-codecs' encoder; the decoder under test is another library. */
export async function encodeJpegLossless(
  frame: Uint8Array,
  spec: FrameLayout,
  bitsAllocated: number,
  bitsStored: number,
  predictor: number,
): Promise<Uint8Array> {
  const { NativeCodecs, Context } = dcmjsCodecs;
  losslessEncoder ??= NativeCodecs.isInitialized() ? Promise.resolve() : NativeCodecs.initializeAsync();
  await losslessEncoder;
  const context = new Context({
    width: spec.width,
    height: spec.height,
    bitsAllocated,
    bitsStored,
    samplesPerPixel: spec.samplesPerPixel ?? 1,
    pixelRepresentation: spec.signed ? 1 : 0,
    planarConfiguration: 0,
    photometricInterpretation: spec.photometric ?? 'MONOCHROME2',
    decodedBuffer: frame,
  });
  const encoded = NativeCodecs.encodeJpeg(context, { lossy: false, predictor, pointTransform: 0 }).getEncodedBuffer();
  if (!encoded) throw new Error('dcmjs-codecs wrote no JPEG lossless stream');
  return encoded.slice();
}
