import { describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { listZip } from '../src/data/archive';
import { countBySplit, indexEntries } from '../src/data/datasetIndex';
import { buildSyntheticZip, encodeImage, syntheticImagesOf } from './syntheticZip';

const blobOf = (data: Uint8Array) => new Blob([data as Uint8Array<ArrayBuffer>]);

/** PNG chunk types, in order. */
function pngChunks(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const types: string[] = [];
  for (let at = 8; at < bytes.length;) {
    const length = view.getUint32(at);
    types.push(String.fromCharCode(...bytes.subarray(at + 4, at + 8)));
    at += 12 + length;
  }
  return types;
}

describe('encodeImage', () => {
  const pixels = Uint8Array.from({ length: 24 * 24 }, (_, i) => (i * 7) % 256);

  it('writes a lossless RGB PNG with no colour chunks', () => {
    const bytes = encodeImage(pixels, 24, 'png');
    expect(pngChunks(bytes)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const png = PNG.sync.read(Buffer.from(bytes));
    expect(bytes[25]).toBe(2); // IHDR colour type: RGB
    for (let i = 0; i < pixels.length; i++) {
      expect([png.data[i * 4], png.data[i * 4 + 1], png.data[i * 4 + 2]]).toEqual([pixels[i], pixels[i], pixels[i]]);
    }
  });

  it('writes a JPEG that decodes close to the pixels', () => {
    const smooth = Uint8Array.from({ length: 32 * 32 }, (_, i) => 60 + (i % 32) * 4);
    const decoded = jpeg.decode(encodeImage(smooth, 32, 'jpeg'), { useTArray: true, formatAsRGBA: true });
    expect([decoded.width, decoded.height]).toEqual([32, 32]);
    let worst = 0;
    for (let i = 0; i < smooth.length; i++) worst = Math.max(worst, Math.abs(decoded.data[i * 4] - smooth[i]));
    expect(worst).toBeLessThan(8);
  });

  it('refuses pixels that do not match the size', () => {
    expect(() => encodeImage(new Uint8Array(10), 4, 'png')).toThrow(RangeError);
  });
});

describe('buildSyntheticZip', () => {
  it('writes the chest_xray tree, which the data layer lists, counts and de-junks', async () => {
    const perClass = { train: 4, val: 2, test: 3 };
    const { zip, images, expectedSkips } = await buildSyntheticZip({
      seed: 3,
      perClass,
      imageSize: 20,
      formats: { test: 'png' },
      junk: true,
      duplicateTree: true,
    });
    expect(images).toHaveLength(2 * (4 + 2 + 3));
    expect(images.filter((i) => i.split === 'test').every((i) => i.format === 'png' && i.path.endsWith('.png'))).toBe(
      true,
    );
    expect(
      images.filter((i) => i.split === 'train').every((i) => i.format === 'jpeg' && i.path.endsWith('.jpeg')),
    ).toBe(true);
    expect(images[0].path).toBe('chest_xray/train/NORMAL/normal-001.jpeg');

    const entries = await listZip(blobOf(zip));
    const index = indexEntries(entries);
    expect(index.classNames).toEqual(['NORMAL', 'PNEUMONIA']);
    expect(countBySplit(index)).toEqual({
      train: { NORMAL: 4, PNEUMONIA: 4 },
      validation: { NORMAL: 2, PNEUMONIA: 2 },
      test: { NORMAL: 3, PNEUMONIA: 3 },
    });
    expect(index.entries.map((e) => e.path).sort()).toEqual(images.map((i) => i.path).sort());

    const byReason = (list: { reason: string }[]) =>
      list.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s.reason]: (acc[s.reason] ?? 0) + 1 }), {});
    expect(byReason(index.skipped)).toEqual({
      folder: 2 * 10 + 1,
      duplicate: 18,
      'macos-resource': 1,
      'hidden-file': 2,
      'not-an-image': 1,
    });
    expect(index.skipped.map((s) => [s.path, s.reason]).sort()).toEqual(
      expectedSkips.map((s) => [s.path, s.reason]).sort(),
    );
    expect(index.skipped.find((s) => s.reason === 'macos-resource')?.path).toBe(
      '__MACOSX/chest_xray/train/NORMAL/._normal-001.jpeg',
    );

    // The PNG bytes in the zip decode to exactly the returned pixels.
    const testImage = images.find((i) => i.split === 'test')!;
    const entry = index.entries.find((e) => e.path === testImage.path)!;
    const png = PNG.sync.read(Buffer.from(await (await entry.read()).arrayBuffer()));
    expect(Uint8Array.from({ length: 400 }, (_, i) => png.data[i * 4])).toEqual(testImage.pixels);
  });

  it('is deterministic for a seed, and syntheticImagesOf gives the same images', async () => {
    const options = { seed: 9, perClass: { train: 2, val: 0, test: 1 }, imageSize: 16 };
    const a = await buildSyntheticZip(options);
    const b = await buildSyntheticZip(options);
    expect(b.images).toEqual(a.images);
    expect(syntheticImagesOf(options)).toEqual(a.images);
    expect((await buildSyntheticZip({ ...options, seed: 10 })).images[0].pixels).not.toEqual(a.images[0].pixels);
    // Without junk or a second tree: folders only.
    expect(a.expectedSkips.every((s) => s.reason === 'folder')).toBe(true);
  });

  it('refuses nonsense counts', () => {
    expect(() => syntheticImagesOf({ perClass: { train: -1, val: 0, test: 0 } })).toThrow(RangeError);
  });
});
