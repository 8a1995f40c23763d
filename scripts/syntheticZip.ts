/**
 * Builds a zip laid out like the Kaggle chest X-ray download (chest_xray/{train,val,test}/{NORMAL,PNEUMONIA}),
 * filled with the synthetic images of src/data/synthetic.ts, for tests and demos in Node.
 * It also returns the exact grey pixels of every image, so a test can check what the page decoded.
 */
import { TextReader, Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { SplitName } from '../src/core/types';
import { DEMO_CLASS_NAMES, syntheticName, syntheticSplit } from '../src/data/synthetic';
import type { SkipReason } from '../src/data/types';

export type ImageFormat = 'jpeg' | 'png';
/** Folder names, as in the Kaggle download. */
export type SplitFolder = 'train' | 'val' | 'test';

export interface SyntheticZipOptions {
  seed?: number;
  /** Images of each class in each split folder. */
  perClass: Record<SplitFolder, number>;
  /** Side of the square images. Default 64. */
  imageSize?: number;
  /** Per split folder; default jpeg. PNG is lossless, so the page decodes exactly `pixels`. */
  formats?: Partial<Record<SplitFolder, ImageFormat>>;
  /** Adds __MACOSX resource forks, .DS_Store files and a README.txt. */
  junk?: boolean;
  /** Also writes the whole tree under chest_xray/chest_xray/, as the real download does. */
  duplicateTree?: boolean;
}

export interface SyntheticZipImage {
  /** Path in the zip (the copy under chest_xray/, not the duplicate). */
  path: string;
  split: SplitName;
  className: string;
  format: ImageFormat;
  /** The grey pixels encoded; exact for PNG, what JPEG approximated (quality 90) for JPEG. */
  pixels: Uint8Array;
  size: number;
}

export interface SyntheticZip {
  /** Backed by a plain ArrayBuffer, so `new Blob([zip])` type-checks. */
  zip: Uint8Array<ArrayBuffer>;
  images: SyntheticZipImage[];
  /** Every other entry of the zip and why the data layer must skip it. */
  expectedSkips: { path: string; reason: SkipReason }[];
}

const FOLDERS: readonly SplitFolder[] = ['train', 'val', 'test'];
const SPLIT_OF: Record<SplitFolder, SplitName> = { train: 'train', val: 'validation', test: 'test' };
const ROOT = 'chest_xray/';
const EXTENSION: Record<ImageFormat, string> = { jpeg: 'jpeg', png: 'png' };

/** Grey pixels as RGBA with equal channels and full alpha. */
function greyToRgba(pixels: Uint8Array): Uint8Array {
  const rgba = new Uint8Array(pixels.length * 4);
  for (let i = 0; i < pixels.length; i++) {
    rgba[i * 4] = rgba[i * 4 + 1] = rgba[i * 4 + 2] = pixels[i];
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

/**
 * Encodes grey pixels as a JPEG (quality 90) or an RGB PNG. The PNG carries no gAMA, cHRM, sRGB or iCCP
 * chunk, so a browser applies no colour conversion and decodes exactly these values.
 */
export function encodeImage(pixels: Uint8Array, size: number, format: ImageFormat): Uint8Array<ArrayBuffer> {
  if (pixels.length !== size * size) throw new RangeError(`encodeImage: ${pixels.length} pixels for ${size} x ${size}`);
  const rgba = greyToRgba(pixels);
  if (format === 'jpeg') {
    return Uint8Array.from(jpeg.encode({ data: rgba, width: size, height: size }, 90).data);
  }
  const png = new PNG({ width: size, height: size });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return Uint8Array.from(PNG.sync.write(png, { colorType: 2, inputColorType: 6 }));
}

/** The images the zip holds, with their pixels, without building the zip. */
export function syntheticImagesOf(options: SyntheticZipOptions): SyntheticZipImage[] {
  const { seed = 1, perClass, imageSize = 64, formats = {} } = options;
  for (const folder of FOLDERS) {
    const n = perClass[folder];
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`perClass.${folder} must be a whole number, not ${n}`);
  }
  return FOLDERS.flatMap((folder) => {
    const format = formats[folder] ?? 'jpeg';
    return syntheticSplit(SPLIT_OF[folder], perClass[folder], imageSize, seed).map((image) => {
      const className = DEMO_CLASS_NAMES[image.classIndex];
      return {
        path: `${ROOT}${folder}/${className}/${syntheticName(image.classIndex, image.index)}.${EXTENSION[format]}`,
        split: SPLIT_OF[folder],
        className,
        format,
        pixels: image.pixels,
        size: imageSize,
      };
    });
  });
}

/** Builds the zip in memory. Images are stored (level 0): they are compressed already. */
export async function buildSyntheticZip(options: SyntheticZipOptions): Promise<SyntheticZip> {
  const images = syntheticImagesOf(options);
  const expectedSkips: SyntheticZip['expectedSkips'] = [];
  const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false, level: 0 });
  const folders = [
    ROOT,
    ...FOLDERS.flatMap((f) => [`${ROOT}${f}/`, ...DEMO_CLASS_NAMES.map((c) => `${ROOT}${f}/${c}/`)]),
  ];
  const trees = options.duplicateTree ? ['', ROOT] : [''];

  for (const prefix of trees) {
    for (const folder of folders) {
      await writer.add(prefix + folder, undefined, { directory: true });
      expectedSkips.push({ path: prefix + folder, reason: 'folder' });
    }
    for (const image of images) {
      await writer.add(prefix + image.path, new Uint8ArrayReader(encodeImage(image.pixels, image.size, image.format)));
      if (prefix) expectedSkips.push({ path: prefix + image.path, reason: 'duplicate' });
    }
  }

  if (options.junk) {
    const first = images[0]?.path.slice(ROOT.length) ?? 'train/NORMAL/x.jpeg';
    const fork = `__MACOSX/${ROOT}${first.replace(/[^/]+$/, (name) => `._${name}`)}`;
    // What macOS' Archive Utility adds: AppleDouble resource forks and Finder metadata.
    const junk: [string, string | Uint8Array, SkipReason][] = [
      ['__MACOSX/', '', 'folder'],
      [
        fork,
        new Uint8Array([0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00, ...new Array(74).fill(0)]),
        'macos-resource',
      ],
      [
        `${ROOT}.DS_Store`,
        new Uint8Array([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31, ...new Array(24).fill(0)]),
        'hidden-file',
      ],
      [
        `${ROOT}train/.DS_Store`,
        new Uint8Array([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31, ...new Array(24).fill(0)]),
        'hidden-file',
      ],
      [`${ROOT}README.txt`, 'Synthetic chest X-ray dataset: not medical data.\n', 'not-an-image'],
    ];
    for (const [path, content, reason] of junk) {
      if (path.endsWith('/')) await writer.add(path, undefined, { directory: true });
      else if (typeof content === 'string') await writer.add(path, new TextReader(content), { level: 6 });
      else await writer.add(path, new Uint8ArrayReader(content));
      expectedSkips.push({ path, reason });
    }
  }
  return { zip: await writer.close(), images, expectedSkips };
}
