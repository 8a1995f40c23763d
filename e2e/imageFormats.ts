/**
 * Test images in every format the app promises to read, each with the same picture: a white
 * top-left quadrant on black, so a test can check where the white landed after decoding.
 */
import gifenc from 'gifenc';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** Brightness of the picture at (x, y) of a width x height image: white top-left quadrant, black elsewhere. */
export function quadrant(x: number, y: number, width: number, height: number): number {
  return x < width / 2 && y < height / 2 ? 255 : 0;
}

/** RGBA bytes of a grey picture, `value(x, y)` its brightness (the quadrant picture unless told). */
export function rgba(
  width: number,
  height: number,
  value: (x: number, y: number) => number = (x, y) => quadrant(x, y, width, height),
): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = data[i + 1] = data[i + 2] = value(x, y);
      data[i + 3] = 255;
    }
  }
  return data;
}

export function jpegImage(width: number, height: number): Uint8Array {
  return new Uint8Array(jpeg.encode({ data: rgba(width, height), width, height }, 95).data);
}

/**
 * A JPEG stored sideways with an EXIF Orientation tag: the stored picture has its white quadrant at the
 * top left, and orientation 6 (rotate 90° clockwise to display) puts it at the top right on screen.
 */
export function jpegWithOrientation(width: number, height: number, orientation: number): Uint8Array {
  return withExifOrientation(jpegImage(width, height), orientation);
}

/** The JPEG `plain` with an EXIF APP1 segment after its SOI marker whose only tag is Orientation = `orientation`. */
export function withExifOrientation(plain: Uint8Array, orientation: number): Uint8Array {
  // APP1 "Exif", big-endian TIFF header, one IFD entry: tag 0x0112 (Orientation), SHORT, count 1.
  // prettier-ignore
  const tiff = [0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0];
  const payload = [...Buffer.from('Exif\0\0', 'binary'), ...tiff];
  const app1 = [0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload];
  return Uint8Array.from([...plain.subarray(0, 2), ...app1, ...plain.subarray(2)]);
}

export type PngKind = 'grey8' | 'rgb8' | 'rgba8' | 'grey16' | 'rgb16' | 'greyAlpha8';

/** PNGs of each colour type and bit depth a scanner or an export tool writes. */
export function pngImage(width: number, height: number, kind: PngKind): Uint8Array {
  const colorType = ({ grey8: 0, grey16: 0, rgb8: 2, rgb16: 2, greyAlpha8: 4, rgba8: 6 } as const)[kind];
  const bitDepth = kind.endsWith('16') ? 16 : 8;
  const png = new PNG({ width, height, colorType, inputColorType: 6, bitDepth, inputHasAlpha: true });
  const eight = rgba(width, height);
  if (bitDepth === 16) {
    // pngjs takes 16-bit input as RGBA Uint16 samples.
    const wide = new Uint16Array(eight.length);
    for (let i = 0; i < eight.length; i++) wide[i] = eight[i] * 257;
    png.data = Buffer.from(wide.buffer);
  } else {
    png.data = Buffer.from(eight);
  }
  return new Uint8Array(PNG.sync.write(png, { colorType, inputColorType: 6, bitDepth, inputHasAlpha: true }));
}

/** A 24-bit Windows bitmap (bottom-up rows, BGR, rows padded to 4 bytes). */
export function bmpImage(width: number, height: number): Uint8Array {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + rowBytes * height;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = 0x42; // 'B'
  out[1] = 0x4d; // 'M'
  view.setUint32(2, size, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  view.setUint32(34, rowBytes * height, true);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) out.fill(quadrant(x, y, width, height), row + x * 3, row + x * 3 + 3);
  }
  return out;
}

/** A GIF; with `animated`, a second frame shows the opposite picture (the app must use the first). */
export function gifImage(width: number, height: number, animated = false): Uint8Array {
  const encoder = gifenc.GIFEncoder();
  const palette = [
    [0, 0, 0],
    [255, 255, 255],
  ];
  const frame = (invert: boolean) => {
    const index = new Uint8Array(width * height);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) index[y * width + x] = quadrant(x, y, width, height) > 0 !== invert ? 1 : 0;
    return index;
  };
  encoder.writeFrame(frame(false), width, height, { palette, delay: 100 });
  if (animated) encoder.writeFrame(frame(true), width, height, { palette, delay: 100 });
  encoder.finish();
  return encoder.bytes();
}
