/**
 * DICOM RLE (PS3.5 Annex G): a frame is a 64-byte header of up to 15 segment offsets, each segment one byte plane
 * (the most significant first) run-length coded like PackBits. No RLE decoder is published on its own; the
 * codec is a page of the standard, written here with every offset and run bounded by the data.
 */
import { DicomError } from './dicomError';

/**
 * The frame's samples as little-endian bytes, `bytesPerSample` a sample: for a colour image (`samples` 3) one
 * plane a sample, all of the first, then the second, then the third (as the segments come).
 */
export function decodeRle(frame: Uint8Array, pixels: number, bytesPerSample: 1 | 2, samples: 1 | 3 = 1): Uint8Array {
  if (frame.length < 64) throw new DicomError('DICOM: the RLE frame is shorter than its header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== bytesPerSample * samples) {
    throw new DicomError(
      `DICOM: the RLE frame has ${segments} segments, an image of ${samples} samples of ${bytesPerSample} bytes needs ${bytesPerSample * samples}`,
    );
  }
  const planeBytes = pixels * bytesPerSample;
  const out = new Uint8Array(planeBytes * samples);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > end || end > frame.length)
      throw new DicomError('DICOM: the RLE frame has a segment outside its data');
    // Each sample's first segment holds its most significant byte: little-endian output puts it last.
    const sample = Math.floor(s / bytesPerSample);
    const plane = out.subarray(sample * planeBytes, (sample + 1) * planeBytes);
    decodeSegment(frame, start, end, plane, bytesPerSample - 1 - (s % bytesPerSample), bytesPerSample, pixels);
  }
  return out;
}

function decodeSegment(
  input: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  plane: number,
  stride: number,
  pixels: number,
): void {
  let at = start;
  let written = 0;
  while (at < end && written < pixels) {
    const control = input[at++];
    if (control < 128) {
      const count = Math.min(control + 1, pixels - written, end - at);
      for (let i = 0; i < count; i++) out[(written + i) * stride + plane] = input[at + i];
      at += control + 1;
      written += count;
    } else if (control > 128) {
      if (at >= end) break;
      const value = input[at++];
      const count = Math.min(257 - control, pixels - written);
      for (let i = 0; i < count; i++) out[(written + i) * stride + plane] = value;
      written += count;
    }
    // 128 is a no-op.
  }
  if (written < pixels) throw new DicomError(`DICOM: the RLE data is truncated (${written} of ${pixels} pixels)`);
}
