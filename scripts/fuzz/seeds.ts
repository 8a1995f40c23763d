/** Seed files for the fuzzer, made here, each with the places of its length and count fields. */
import { bmpImage, jpegImage, pngImage } from '../../e2e/imageFormats';
import type { Field, Seed } from './mutate';

const le = (offset: number, width: 2 | 4): Field => ({ offset, width, littleEndian: true });
const be = (offset: number, width: 2 | 4): Field => ({ offset, width, littleEndian: false });

/** A zip's end record and central directory (`central`), or its local file headers (`local`). */
export function zipFields(bytes: Uint8Array, part: 'central' | 'local'): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = bytes.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new Error('fuzz seed: no end of central directory record');
  const count = view.getUint16(end + 10, true);
  const fields: Field[] =
    part === 'central' ? [le(end + 8, 2), le(end + 10, 2), le(end + 12, 4), le(end + 16, 4), le(end + 20, 2)] : [];
  let at = view.getUint32(end + 16, true);
  for (let i = 0; i < count; i++) {
    const local = view.getUint32(at + 42, true);
    if (part === 'central')
      fields.push(
        le(at + 20, 4),
        le(at + 24, 4),
        le(at + 28, 2),
        le(at + 30, 2),
        le(at + 32, 2),
        le(at + 42, 4),
        le(at + 10, 2),
      );
    else
      fields.push(
        le(local + 18, 4),
        le(local + 22, 4),
        le(local + 26, 2),
        le(local + 28, 2),
        le(local + 8, 2),
        le(local + 6, 2),
      );
    at += 46 + view.getUint16(at + 28, true) + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return fields;
}

function pngFields(bytes: Uint8Array): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Field[] = [be(16, 4), be(20, 4)];
  for (let at = 8; at + 8 <= bytes.length; at += 12 + view.getUint32(at, false)) fields.push(be(at, 4));
  return fields;
}

function jpegFields(bytes: Uint8Array): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Field[] = [];
  for (let at = 2; at + 4 <= bytes.length && bytes[at] === 0xff; at += 2 + view.getUint16(at + 2, false)) {
    const marker = bytes[at + 1];
    fields.push(be(at + 2, 2));
    if (marker >= 0xc0 && marker <= 0xc3) fields.push(be(at + 5, 2), be(at + 7, 2));
    if (marker === 0xda) break;
  }
  return fields;
}

function gifFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [le(6, 2), le(8, 2)];
  const table = bytes[10] & 0x80 ? 3 * 2 ** ((bytes[10] & 7) + 1) : 0;
  const descriptor = bytes.indexOf(0x2c, 13 + table);
  if (descriptor > 0)
    fields.push(le(descriptor + 1, 2), le(descriptor + 3, 2), le(descriptor + 5, 2), le(descriptor + 7, 2));
  return fields;
}

/** A 1 × 1 GIF, and the same with a graphic control extension (gifenc does not load the same way under vitest). */
const GIF = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0xff, 0xff, 0xff, 0, 0, 0];
const GIF_IMAGE = [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b];
const GIF_CONTROL = [0x21, 0xf9, 4, 1, 0, 0, 0, 0];

/** A 1 × 1 lossless WebP (VP8L), and the same picture in the extended format (VP8X, with a canvas size). */
const WEBP_LOSSLESS = Uint8Array.from([
  0x52, 0x49, 0x46, 0x46, 0x1a, 0, 0, 0, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x4c, 0x0d, 0, 0, 0, 0x2f, 0, 0, 0,
  0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0,
]);

function webpExtended(): Uint8Array {
  const vp8x = Uint8Array.from([0x56, 0x50, 0x38, 0x58, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const body = [...vp8x, ...WEBP_LOSSLESS.subarray(12)];
  const out = Uint8Array.from([...WEBP_LOSSLESS.subarray(0, 12), ...body]);
  new DataView(out.buffer).setUint32(4, out.length - 8, true);
  return out;
}

export function imageSeeds(format: 'jpeg' | 'png' | 'bmp' | 'gif' | 'webp'): Seed[] {
  switch (format) {
    case 'jpeg':
      return [jpegImage(16, 12), jpegImage(3, 5)].map((bytes, i) => ({
        label: `jpeg ${i}`,
        bytes,
        fields: jpegFields(bytes),
      }));
    case 'png':
      return (['grey8', 'rgba8', 'grey16'] as const).map((kind) => {
        const bytes = pngImage(9, 7, kind);
        return { label: `png ${kind}`, bytes, fields: pngFields(bytes) };
      });
    case 'bmp':
      return [bmpImage(5, 4)].map((bytes) => ({
        label: 'bmp',
        bytes,
        fields: [le(2, 4), le(10, 4), le(14, 4), le(18, 4), le(22, 4), le(28, 2), le(34, 4)],
      }));
    case 'gif':
      return [Uint8Array.from([...GIF, ...GIF_IMAGE]), Uint8Array.from([...GIF, ...GIF_CONTROL, ...GIF_IMAGE])].map(
        (bytes, i) => ({ label: `gif ${i}`, bytes, fields: gifFields(bytes) }),
      );
    case 'webp':
      return [WEBP_LOSSLESS, webpExtended()].map((bytes, i) => ({
        label: `webp ${i}`,
        bytes,
        fields: [le(4, 4), le(16, 4), ...(i === 1 ? [le(24, 4), le(27, 4)] : [])],
      }));
  }
}
