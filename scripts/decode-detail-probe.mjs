#!/usr/bin/env node
/**
 * Which decode path gives a film how much fine detail at the model's input (docs/benchmarks.md, "The JPEG decode
 * scale"): for each JPEG given, in Debian's Chromium, the finest octave's ln(mean |Laplacian| + 1e-4) at `--size`
 * (150) after: ImageDecoder asked for the model size (the page before the fix), ImageDecoder at the smallest n/8 that
 * covers the size (after), the film decoded whole and drawn by the canvas, and a PNG of the same pixels through
 * createImageBitmap's own 'high' resize (the page's other formats before) and through the canvas (after).
 *
 *   node scripts/decode-detail-probe.mjs [--size 150] film.jpeg … (or a folder's files: dir/*.jpeg)
 */
/* global OffscreenCanvas, ImageDecoder, createImageBitmap -- the page.evaluate body runs in the browser. */
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright';

const args = process.argv.slice(2);
const sizeAt = args.indexOf('--size');
const size = sizeAt >= 0 ? Number(args.splice(sizeAt, 2)[1]) : 150;
if (args.length === 0) throw new Error('Give JPEG files.');
// ImageDecoder needs a secure context: localhost is one.
const server = createServer((_, res) => res.end('<html></html>')).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const rows = await page.evaluate(
    async ({ images, size }) => {
      const finest = (bitmap) => {
        const c = new OffscreenCanvas(size, size).getContext('2d', { willReadFrequently: true });
        c.imageSmoothingQuality = 'high';
        c.drawImage(bitmap, 0, 0, size, size);
        const d = c.getImageData(0, 0, size, size).data;
        const g = (i) => Math.round(0.299 * d[4 * i] + 0.587 * d[4 * i + 1] + 0.114 * d[4 * i + 2]);
        let e = 0;
        for (let y = 1; y < size - 1; y++)
          for (let x = 1; x < size - 1; x++) {
            const at = y * size + x;
            e += Math.abs(4 * g(at) - g(at - size) - g(at + size) - g(at - 1) - g(at + 1));
          }
        return Math.log(e / 255 / (size - 2) ** 2 + 1e-4);
      };
      const scaled = async (bytes, w, h) => {
        const decoder = new ImageDecoder({
          data: bytes,
          type: 'image/jpeg',
          colorSpaceConversion: 'none',
          desiredWidth: w,
          desiredHeight: h,
        });
        const { image } = await decoder.decode();
        const bitmap = await createImageBitmap(image);
        image.close();
        decoder.close();
        return bitmap;
      };
      const out = [];
      for (const b64 of images) {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const whole = await createImageBitmap(new Blob([bytes]), { colorSpaceConversion: 'none' });
        const [w, h] = [whole.width, whole.height];
        const scale = Math.min(1, size / Math.min(w, h));
        const before = await scaled(bytes, Math.ceil(w * scale), Math.ceil(h * scale));
        const eighths = Math.min(8, Math.ceil((8 * size) / Math.min(w, h)));
        const after = await scaled(bytes, Math.ceil((w * eighths) / 8), Math.ceil((h * eighths) / 8));
        const canvas = new OffscreenCanvas(w, h);
        canvas.getContext('2d').drawImage(whole, 0, 0);
        const png = await canvas.convertToBlob({ type: 'image/png' });
        const pngResized = await createImageBitmap(png, {
          resizeWidth: size,
          resizeHeight: size,
          resizeQuality: 'high',
          colorSpaceConversion: 'none',
          premultiplyAlpha: 'none',
        });
        const pngWhole = await createImageBitmap(png, { colorSpaceConversion: 'none' });
        out.push({
          decodedBefore: Math.min(before.width, before.height),
          decodedAfter: Math.min(after.width, after.height),
          jpegBefore: finest(before),
          jpegAfter: finest(after),
          jpegWhole: finest(whole),
          pngBefore: finest(pngResized),
          pngAfter: finest(pngWhole),
        });
      }
      return out;
    },
    { images: args.map((f) => readFileSync(f).toString('base64')), size },
  );
  const mean = (k) => (rows.reduce((s, r) => s + r[k], 0) / rows.length).toFixed(3);
  const below = rows.filter((r) => r.decodedBefore < size).length;
  console.log(
    `${rows.length} JPEGs at ${size} px; decoded below ${size} px before the fix: ${below}, after: ${rows.filter((r) => r.decodedAfter < size).length}`,
  );
  console.log(
    'finest-octave ln detail, mean: JPEG before',
    mean('jpegBefore'),
    '| after',
    mean('jpegAfter'),
    '| whole',
    mean('jpegWhole'),
    '| PNG before',
    mean('pngBefore'),
    '| after',
    mean('pngAfter'),
  );
} finally {
  await browser.close();
  server.close();
}
