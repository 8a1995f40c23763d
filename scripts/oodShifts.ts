/**
 * bench:accuracy's check under acquisition shifts (docs/out-of-distribution.md, docs/generalisation.md): after a run, a
 * sample of its TEST split's files, as they are and shifted as another scanner or site might (scripts/shiftImages.ts:
 * inverted, gamma 0.5 and 2, contrast halved, a central 70% crop zoomed back to full size, a Gaussian blur of 2 px at
 * 150 px, added noise; held out from every lever: sharpen, equalize, low-res), goes through the page's own Predict
 * (`Images to predict`). Read back: the share its `predict-ood-summary` calls unlike the training data, and each
 * image's decision and probability (`Download predictions (CSV)`) and flag (the `Predictions` table's `Unlike training
 * data`), scored against the class its archive path names (scripts/shiftFigures.ts). With `--ood-extra <zip>`, that
 * archive's images too, as they are. The shifts are drawn in the page by this script (canvas, then PNG files); the
 * product has no code for them.
 */
import type { Page } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PNG } from 'pngjs';
import { BlobReader, Uint8ArrayWriter, ZipReader, configure } from '@zip.js/zip.js';
import { defaultPositiveClass } from '../src/eval/metrics';
import type { ShiftFigures } from './accuracyResult';
import { decisionFigures, judgedImages, parsePredictionsCsv } from './shiftFigures';
import { AS_PNG, SHIFT_NAMES, shiftGrey } from './shiftImages';

/**
 * The sets, in the order they are printed: the sample as it is (every shift's baseline), the same through the shifts'
 * path (drawn, saved as PNG: the control), then each shift.
 */
export const OOD_SHIFTS = ['as is', AS_PNG, ...SHIFT_NAMES] as const;
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

/**
 * `images` (encoded files) decoded and shifted in the page, encoded here: grey PNG files of the same size. (The
 * page's own PNG encoder, `convertToBlob`, takes a second an image once the page has downloaded a file.)
 */
async function shiftedInPage(page: Page, images: Uint8Array[], shift: string): Promise<Buffer[]> {
  // tsx names nested functions through a helper `__name` the page does not have: an identity stands in. The shifts'
  // arithmetic is scripts/shiftImages.ts (unit-tested), its own source text defined in the page.
  await page.evaluate(`globalThis.__name ??= (f) => f; globalThis.benchShiftGrey = ${shiftGrey.toString()};`);
  const shifted = await page.evaluate(
    async ({ images, shift }) => {
      const shifter = (globalThis as unknown as { benchShiftGrey: typeof shiftGrey }).benchShiftGrey;
      // Deterministic noise: a seeded generator, Box-Muller for the Gaussian, one stream for the set.
      let state = 12345;
      const uniform = () => {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        return (state + 0.5) / 4294967296;
      };
      const gaussian = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      const out: { width: number; height: number; grey: string }[] = [];
      for (const b64 of images) {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes]));
        const { width: w, height: h } = bitmap;
        const canvas = new OffscreenCanvas(w, h);
        const context = canvas.getContext('2d')!;
        if (shift === 'crop 70%') context.drawImage(bitmap, 0.15 * w, 0.15 * h, 0.7 * w, 0.7 * h, 0, 0, w, h);
        else context.drawImage(bitmap, 0, 0);
        const data = context.getImageData(0, 0, w, h);
        const grey = new Float32Array(w * h);
        for (let i = 0; i < w * h; i++)
          grey[i] = (0.299 * data.data[4 * i] + 0.587 * data.data[4 * i + 1] + 0.114 * data.data[4 * i + 2]) / 255;
        const moved = shifter(grey, w, h, shift, gaussian);
        const byte = Uint8Array.from(moved, (v) => Math.round(255 * Math.min(1, Math.max(0, v))));
        let text = '';
        for (let i = 0; i < byte.length; i += 0x8000) text += String.fromCharCode(...byte.subarray(i, i + 0x8000));
        out.push({ width: w, height: h, grey: btoa(text) });
      }
      return out;
    },
    { images: images.map((b) => Buffer.from(b).toString('base64')), shift },
  );
  return shifted.map(({ width, height, grey }) => greyPng(Buffer.from(grey, 'base64'), width, height));
}

/** Grey bytes as a grey PNG (lossless: the page decodes these values). */
function greyPng(grey: Buffer, width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  for (let i = 0; i < grey.length; i++) png.data.set([grey[i], grey[i], grey[i], 255], 4 * i);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 6 });
}

/** What the page says of a set it predicted: the share flagged, its CSV, and each file's flag (none: cannot judge). */
interface PredictedSet {
  share: number;
  csv: ReturnType<typeof parsePredictionsCsv>;
  unlike: Map<string, boolean>;
}

/** Predicts `files` on the page and reads what it says of them. */
async function predictedSet(page: Page, files: string[] | string, marker: RegExp): Promise<PredictedSet> {
  const input = page.getByLabel('Images to predict');
  await input.setInputFiles(files);
  // The table shows these files once the worker has answered (60 rows drawn, sorted by score: any of them), and the
  // sentence comes with it.
  await page.getByRole('table', { name: 'Predictions' }).getByText(marker).first().waitFor({ timeout: 600_000 });
  const text = await page.getByTestId('predict-ood-summary').innerText();
  const match = /(\d+) of (\d+) images are unlike the training data/.exec(text);
  if (!match) throw new Error(`No judgement in Predict: ${text.slice(0, 200)}`);
  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download predictions (CSV)' }).click();
  const csv = parsePredictionsCsv(readFileSync((await (await pending).path())!, 'utf8'));
  const unlike = await unlikeColumn(page);
  if (unlike.size > 0 && unlike.size !== csv.rows.length)
    throw new Error(`The Predictions table drew ${unlike.size} rows, its CSV holds ${csv.rows.length}`);
  return { share: Number(match[1]) / Number(match[2]), csv, unlike };
}

/**
 * Each file's `Unlike training data` cell of the `Predictions` table, every row drawn first (the table draws 60 at a
 * time, `Show N more` the rest); empty when the model cannot judge (no such column).
 */
async function unlikeColumn(page: Page): Promise<Map<string, boolean>> {
  const panel = page.getByRole('region', { name: '6. Predict' });
  const table = panel.getByRole('table', { name: 'Predictions' });
  const headers = (await table.locator('thead th').allInnerTexts()).map((t) => t.trim());
  const [fileAt, unlikeAt] = [headers.indexOf('File'), headers.indexOf('Unlike training data')];
  if (unlikeAt < 0 || fileAt < 0) return new Map();
  const rows = table.locator('tbody tr');
  const more = panel.getByRole('button', { name: /^Show \d+ more$/ });
  while ((await more.count()) > 0) {
    const drawn = await rows.count();
    await more.click();
    await rows.nth(drawn).waitFor();
  }
  const cells = await rows.evaluateAll((trs) =>
    trs.map((tr) => Array.from((tr as HTMLTableRowElement).cells, (td) => (td.textContent ?? '').trim())),
  );
  return new Map(cells.map((row) => [row[fileAt], row[unlikeAt] === 'yes']));
}

/** The decisions' figures on a predicted set, each file's class named by `pathOf(file)`, the page's positive class. */
function figuresOf(set: PredictedSet, pathOf: (file: string) => string): ShiftFigures {
  const positive = defaultPositiveClass(set.csv.classNames);
  return decisionFigures(judgedImages(set.csv, set.unlike, pathOf, positive), positive);
}

/**
 * For the sample of the test split's files (`testFiles`, paths in `zip`) as it is and under each shift, and for
 * `extra`'s images (`--ood-extra`) as they are: the share the page flags (NaN for a set that could not be made) and
 * the figures of its decisions (`extra`'s only when its paths name the classes).
 */
export async function shiftedResults(
  page: Page,
  zip: string,
  testFiles: string[],
  extra: string | null,
): Promise<{ shifted: Record<string, number>; shiftedFigures: Record<string, ShiftFigures> }> {
  const step = Math.max(1, Math.ceil(testFiles.length / SAMPLE));
  const sample = await filesOf(
    zip,
    testFiles.filter((_, i) => i % step === 0),
  );
  const shifted: Record<string, number> = {};
  const shiftedFigures: Record<string, ShiftFigures> = {};
  // Files on disk, not buffers: Playwright refuses more than 50 MB of buffers at once (full-resolution images).
  const folder = mkdtempSync(join(tmpdir(), 'ood-shifts-'));
  try {
    for (const shift of OOD_SHIFTS) {
      const { set, paths } = await shiftSet(page, sample, shift, folder);
      shifted[shift] = set.share;
      shiftedFigures[shift] = figuresOf(set, (file) => paths.get(file) ?? '');
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  if (extra) {
    // The shifted files are PNGs: a row named like one of the archive's images is the archive's.
    const names = (await listImages(extra)).map((name) => basename(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const key = `extra: ${basename(extra)}`;
    shifted[key] = Number.NaN;
    if (names.length > 0) {
      const set = await predictedSet(page, extra, new RegExp(`(${names.join('|')})`));
      shifted[key] = set.share;
      // The page names an archive's image by its path in it, which names its class in a labelled archive.
      const figures = figuresOf(set, (file) => file);
      if (figures.images > 0) shiftedFigures[key] = figures;
    }
  }
  return { shifted, shiftedFigures };
}

/**
 * `sample` as it is or shifted by `shift`, written under `folder` and predicted in the page; with the archive path of
 * each written file's name.
 */
async function shiftSet(
  page: Page,
  sample: { name: string; bytes: Uint8Array }[],
  shift: string,
  folder: string,
): Promise<{ set: PredictedSet; paths: Map<string, string> }> {
  const tag = shift.replace(/[^a-z0-9]+/gi, '_');
  const asIs = shift === 'as is';
  const encoded = asIs
    ? sample.map((f) => Buffer.from(f.bytes))
    : await shiftedInPage(
        page,
        sample.map((f) => f.bytes),
        shift,
      );
  const paths = new Map<string, string>();
  const files = encoded.map((buffer, i) => {
    const stem = basename(sample[i].name).replace(/\.\w+$/, '');
    const name = `${tag}-${String(i).padStart(4, '0')}-${asIs ? basename(sample[i].name) : `${stem}.png`}`;
    paths.set(name, sample[i].name);
    writeFileSync(join(folder, name), buffer);
    return join(folder, name);
  });
  return { set: await predictedSet(page, files, new RegExp(`^${tag}-\\d{4}-`)), paths };
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
