/** A Node stand-in for the decode workers, for the loadDataset tests. */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { rgbaToGrey } from './grey';
import type { DecodeFn } from './loadDataset';

/** A Node stand-in for the decode workers: PNG and JPEG at their own size only (no resampling needed here). */
export const nodeDecode: DecodeFn = async (blob, size) => {
  const bytes = Buffer.from(await blob.arrayBuffer());
  let image: { width: number; height: number; data: Uint8Array };
  if (bytes[0] === 0x89 && bytes[1] === 0x50) image = PNG.sync.read(bytes);
  else if (bytes[0] === 0xff && bytes[1] === 0xd8) image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  else throw new Error('The image could not be decoded.');
  if (image.width !== size || image.height !== size)
    throw new Error(`test decoder: ${image.width} x ${image.height} is not ${size} x ${size}`);
  return { pixels: rgbaToGrey(image.data), sourceWidth: image.width, sourceHeight: image.height };
};
