/**
 * bench:accuracy's out-of-distribution check (docs/out-of-distribution.md): after a run, a sample of its TEST split's
 * files, each shifted as another scanner or site might (inverted, gamma 0.5 and 2, contrast halved, a central 70% crop
 * zoomed back to full size, a Gaussian blur of 2 px at 150 px, added noise), goes through the page's own Predict
 * (`Images to predict`), and the share its `predict-ood-summary` calls unlike the training data is read; with
 * `--ood-extra <zip>`, that archive's images too, as they are. The shifts are drawn in the page by this script (canvas,
 * then PNG files); the product has no code for them.
 */
import type { Page } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BlobReader, Uint8ArrayWriter, ZipReader, configure } from '@zip.js/zip.js';

/** The shifts, in the order they are printed. */
export const OOD_SHIFTS = [
  'inverted',
  'gamma 0.5',
  'gamma 2',
  'contrast x0.5',
  'crop 70%',
  'blur 2 px',
  'noise',
] as const;
/** At most this many test images a shift (every k-th of the split's files, so the sample is the same every run). */
const SAMPLE = 200;

/** The bytes of `names` (paths in the archive) from `zip`, in that order; those absent are left out. */
async function filesOf(zip: string, names: string[]): Promise<{ name: string; bytes: Uint8Array }[]> {
  configure({ useWebWorkers: false });
  const reader = new ZipReader(new BlobReader(new Blob([readFileSync(zip)])));
  try {
    const wanted = new Set(names);
    const out = new Map<string, Uint8Array>();
    for (const entry of await reader.getEntries()) {
      if (!entry.directory && wanted.has(entry.filename))
        out.set(entry.filename, await entry.getData!(new Uint8ArrayWriter()));
    }
    return names.filter((n) => out.has(n)).map((name) => ({ name, bytes: out.get(name)! }));
  } finally {
    await reader.close();
  }
}

/** `images` (encoded files) shifted in the page: grey PNG files of the same size. */
async function shiftedInPage(page: Page, images: Uint8Array[], shift: string): Promise<Buffer[]> {
  // tsx names nested functions through a helper `__name` the page does not have: an identity stands in.
  await page.evaluate('globalThis.__name ??= (f) => f');
  const encoded = await page.evaluate(
    async ({ images, shift }) => {
      // Deterministic noise: a seeded generator, Box-Muller for the Gaussian.
      let state = 12345;
      const uniform = () => {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        return (state + 0.5) / 4294967296;
      };
      const gaussian = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      /** A separable Gaussian blur of `sigma` px, edges clamped. */
      const blurred = (grey: Float32Array, w: number, h: number, sigma: number) => {
        const radius = Math.ceil(3 * sigma);
        const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) =>
          Math.exp(-((i - radius) ** 2) / (2 * sigma ** 2)),
        );
        const total = kernel.reduce((a, b) => a + b, 0);
        const pass = (src: Float32Array, horizontal: boolean) => {
          const dst = new Float32Array(src.length);
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++) {
              let sum = 0;
              for (let k = -radius; k <= radius; k++) {
                const xx = horizontal ? Math.min(w - 1, Math.max(0, x + k)) : x;
                const yy = horizontal ? y : Math.min(h - 1, Math.max(0, y + k));
                sum += kernel[k + radius] * src[yy * w + xx];
              }
              dst[y * w + x] = sum / total;
            }
          }
          return dst;
        };
        return pass(pass(grey, true), false);
      };
      const out: string[] = [];
      for (const b64 of images) {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes]));
        const { width: w, height: h } = bitmap;
        const canvas = new OffscreenCanvas(w, h);
        const context = canvas.getContext('2d')!;
        if (shift === 'crop 70%') context.drawImage(bitmap, 0.15 * w, 0.15 * h, 0.7 * w, 0.7 * h, 0, 0, w, h);
        else context.drawImage(bitmap, 0, 0);
        const data = context.getImageData(0, 0, w, h);
        let grey = new Float32Array(w * h);
        for (let i = 0; i < w * h; i++)
          grey[i] = (0.299 * data.data[4 * i] + 0.587 * data.data[4 * i + 1] + 0.114 * data.data[4 * i + 2]) / 255;
        const mean = grey.reduce((a, b) => a + b, 0) / grey.length;
        // Blur: sigma 2 px at 150 px, so the same share of the image at any file size.
        if (shift === 'blur 2 px') grey = blurred(grey, w, h, (2 * w) / 150);
        for (let i = 0; i < grey.length; i++) {
          const v = grey[i];
          if (shift === 'inverted') grey[i] = 1 - v;
          else if (shift === 'gamma 0.5') grey[i] = v ** 0.5;
          else if (shift === 'gamma 2') grey[i] = v ** 2;
          else if (shift === 'contrast x0.5') grey[i] = mean + 0.5 * (v - mean);
          else if (shift === 'noise') grey[i] = v + 0.1 * gaussian();
        }
        for (let i = 0; i < grey.length; i++) {
          const byte = Math.round(255 * Math.min(1, Math.max(0, grey[i])));
          data.data.set([byte, byte, byte, 255], 4 * i);
        }
        context.putImageData(data, 0, 0);
        const png = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
        let text = '';
        for (let i = 0; i < png.length; i += 0x8000) text += String.fromCharCode(...png.subarray(i, i + 0x8000));
        out.push(btoa(text));
      }
      return out;
    },
    { images: images.map((b) => Buffer.from(b).toString('base64')), shift },
  );
  return encoded.map((b64) => Buffer.from(b64, 'base64'));
}

/** Predicts `files` on the page and reads the share its sentence calls unlike the training data. */
async function predictedShare(page: Page, files: string[] | string, marker: RegExp): Promise<number> {
  const input = page.getByLabel('Images to predict');
  await input.setInputFiles(files);
  // The table shows these files once the worker has answered (60 rows drawn, sorted by score: any of them), and the
  // sentence comes with it.
  await page.getByRole('table', { name: 'Predictions' }).getByText(marker).first().waitFor({ timeout: 600_000 });
  const text = await page.getByTestId('predict-ood-summary').innerText();
  const match = /(\d+) of (\d+) images are unlike the training data/.exec(text);
  if (!match) throw new Error(`No judgement in Predict: ${text.slice(0, 200)}`);
  return Number(match[1]) / Number(match[2]);
}

/**
 * The share of each shift of the test split's files (`testFiles`, paths in `zip`) the page flags, and of `extra`'s
 * images (`--ood-extra`) as they are; NaN for a shift that could not be made.
 */
export async function shiftedShares(
  page: Page,
  zip: string,
  testFiles: string[],
  extra: string | null,
): Promise<Record<string, number>> {
  const step = Math.max(1, Math.ceil(testFiles.length / SAMPLE));
  const sample = await filesOf(
    zip,
    testFiles.filter((_, i) => i % step === 0),
  );
  const out: Record<string, number> = {};
  // Files on disk, not buffers: Playwright refuses more than 50 MB of buffers at once (full-resolution images).
  const folder = mkdtempSync(join(tmpdir(), 'ood-shifts-'));
  try {
    for (const shift of OOD_SHIFTS) out[shift] = await shiftShare(page, sample, shift, folder);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  if (extra) {
    // The shifted files are PNGs: a row named like one of the archive's images is the archive's.
    const names = (await listImages(extra)).map((name) => basename(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    out[`extra: ${basename(extra)}`] =
      names.length > 0 ? await predictedShare(page, extra, new RegExp(`(${names.join('|')})`)) : Number.NaN;
  }
  return out;
}

/** The share of `sample` shifted by `shift` that the page flags; the shifted files are written under `folder`. */
async function shiftShare(
  page: Page,
  sample: { name: string; bytes: Uint8Array }[],
  shift: string,
  folder: string,
): Promise<number> {
  const tag = shift.replace(/[^a-z0-9]+/gi, '_');
  const pngs = await shiftedInPage(
    page,
    sample.map((f) => f.bytes),
    shift,
  );
  const files = pngs.map((buffer, i) => {
    const path = join(
      folder,
      `${tag}-${String(i).padStart(4, '0')}-${basename(sample[i].name).replace(/\.\w+$/, '')}.png`,
    );
    writeFileSync(path, buffer);
    return path;
  });
  return predictedShare(page, files, new RegExp(`^${tag}-\\d{4}-`));
}

/** The image entries of a zip, in order. */
async function listImages(zip: string): Promise<string[]> {
  configure({ useWebWorkers: false });
  const reader = new ZipReader(new BlobReader(new Blob([readFileSync(zip)])));
  try {
    return (await reader.getEntries())
      .filter((e) => !e.directory && /\.(jpe?g|png)$/i.test(e.filename) && !/(^|\/)(__MACOSX|\.)/.test(e.filename))
      .map((e) => e.filename);
  } finally {
    await reader.close();
  }
}
