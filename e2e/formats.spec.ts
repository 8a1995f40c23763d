import { type Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import { encodeImage } from '../scripts/syntheticZip';
import { expectStatus, readSummary } from './helpers';
import { bmpImage, gifImage, jpegImage, jpegWithOrientation, pngImage } from './imageFormats';

const SIZE = 32;

/** A lossless WebP of the quadrant picture, made by the browser itself (Node has no WebP encoder here). */
async function webpImage(page: Page, width: number, height: number): Promise<Uint8Array> {
  const bytes = await page.evaluate(
    async ({ width, height }) => {
      const canvas = new OffscreenCanvas(width, height);
      const context = canvas.getContext('2d')!;
      context.fillStyle = '#000';
      context.fillRect(0, 0, width, height);
      context.fillStyle = '#fff';
      context.fillRect(0, 0, width / 2, height / 2);
      const blob = await canvas.convertToBlob({ type: 'image/webp', quality: 1 });
      if (blob.type !== 'image/webp') throw new Error(`this browser wrote ${blob.type}, not WebP`);
      return [...new Uint8Array(await blob.arrayBuffer())];
    },
    { width, height },
  );
  return Uint8Array.from(bytes);
}

/** Mean brightness of each quadrant of a sample-grid canvas: [top-left, top-right, bottom-left, bottom-right]. */
async function quadrantMeans(page: Page, name: string): Promise<number[]> {
  const canvas = page.getByRole('figure', { name: 'Sample images' }).getByRole('img', { name, exact: true });
  return canvas.evaluate((element) => {
    const c = element as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const sums = [0, 0, 0, 0];
    const counts = [0, 0, 0, 0];
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        // Pixels on the quadrant borders are resampled blends: left out.
        if (Math.abs(x + 0.5 - c.width / 2) < 2 || Math.abs(y + 0.5 - c.height / 2) < 2) continue;
        const q = (y < c.height / 2 ? 0 : 2) + (x < c.width / 2 ? 0 : 1);
        sums[q] += data[(y * c.width + x) * 4];
        counts[q]++;
      }
    }
    return sums.map((sum, q) => Math.round(sum / counts[q]));
  });
}

test('every promised image format decodes, EXIF orientation applied, first GIF frame used', async ({ page }) => {
  await page.goto(`/?size=${SIZE}`);
  // Non-square on purpose: squashing to a square must keep the white quadrant where it is.
  const [w, h] = [48, 40];
  const images: Record<string, Uint8Array> = {
    'jpeg.jpg': jpegImage(w, h),
    'png-grey8.png': pngImage(w, h, 'grey8'),
    'png-grey16.png': pngImage(w, h, 'grey16'),
    'png-rgb8.png': pngImage(w, h, 'rgb8'),
    'png-rgb16.png': pngImage(w, h, 'rgb16'),
    'png-rgba8.png': pngImage(w, h, 'rgba8'),
    'png-grey-alpha8.png': pngImage(w, h, 'greyAlpha8'),
    'bmp24.bmp': bmpImage(w, h),
    'gif.gif': gifImage(w, h),
    'gif-animated.gif': gifImage(w, h, true),
    'webp.webp': await webpImage(page, w, h),
  };
  const writer = new ZipWriter(new Uint8ArrayWriter());
  for (const [name, bytes] of Object.entries(images))
    await writer.add(`data/train/FORMATS/${name}`, new Uint8ArrayReader(bytes));
  // Stored 48 x 24, white quadrant top left; orientation 6 shows it rotated a quarter turn clockwise.
  await writer.add('data/train/FORMATS/jpeg-exif-rotated.jpg', new Uint8ArrayReader(jpegWithOrientation(48, 24, 6)));
  // A second class, and a val folder big enough to be used, so every FORMATS image stays in train (and in the grid).
  const plain = encodeImage(new Uint8Array(SIZE * SIZE).fill(90), SIZE, 'png');
  for (let i = 0; i < 3; i++) await writer.add(`data/train/OTHER/${i}.png`, new Uint8ArrayReader(plain));
  for (const className of ['FORMATS', 'OTHER']) {
    for (let i = 0; i < 10; i++) await writer.add(`data/val/${className}/${i}.png`, new Uint8ArrayReader(plain));
  }
  const zip = await writer.close();

  await page
    .getByLabel('Dataset', { exact: true })
    .setInputFiles({ name: 'formats.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) });
  await expectStatus(page, 'ready');
  expect(await readSummary(page)).toEqual({
    train: { FORMATS: 12, OTHER: 3, total: 15 },
    validation: { FORMATS: 10, OTHER: 10, total: 20 },
    test: { FORMATS: 0, OTHER: 0, total: 0 },
  });
  await expect(page.getByText('Nothing was skipped.')).toBeVisible();

  for (const name of Object.keys(images)) {
    const [topLeft, topRight, bottomLeft, bottomRight] = await quadrantMeans(
      page,
      `FORMATS: data/train/FORMATS/${name}`,
    );
    expect.soft(topLeft, `${name}: white quadrant`).toBeGreaterThan(235);
    expect.soft(Math.max(topRight, bottomLeft, bottomRight), `${name}: black quadrants`).toBeLessThan(20);
  }
  const [topLeft, topRight, bottomLeft, bottomRight] = await quadrantMeans(
    page,
    'FORMATS: data/train/FORMATS/jpeg-exif-rotated.jpg',
  );
  expect(topRight, 'EXIF orientation 6 turns the top-left quadrant to the top right').toBeGreaterThan(235);
  expect(Math.max(topLeft, bottomLeft, bottomRight)).toBeLessThan(20);
});
