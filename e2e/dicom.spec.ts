/**
 * DICOM in a zip, as a hospital export comes: several transfer syntaxes, MONOCHROME1, files named by UID without an
 * extension, files without a preamble, a JPEG among them, and files that cannot be used. They load, count in the
 * `Dataset summary`, group by PatientID (never shown), train, and are predicted from `.dcm` files.
 */
import { expect, test } from '@playwright/test';
import { BlobReader, TextWriter, Uint8ArrayReader, Uint8ArrayWriter, ZipReader, ZipWriter } from '@zip.js/zip.js';
import { hasDcmtk, writeDicom, type DicomSpec, type Encoding } from '../src/data/dicom/dicomFiles.testutil';
import { encodeImage } from '../scripts/syntheticZip';
import { expectNoSidewaysScroll, expectStatus, metric, readSummary, reportShown } from './helpers';

const SIZE = 32;
const SECRET = 'PAT-SECRET-';

/** A 40 x 40 12-bit image: dark (NORMAL) or bright (PNEUMONIA), with a pattern so images differ. */
function image(bright: boolean, seed: number, extra: Partial<DicomSpec> = {}): DicomSpec {
  const values = Array.from({ length: 1600 }, (_, i) => (bright ? 2800 : 600) + ((i * (seed + 3)) % 400));
  return {
    width: 40,
    height: 40,
    values,
    bitsStored: 12,
    windowCenter: 2048,
    windowWidth: 4096,
    modality: 'CR',
    ...extra,
  };
}

// Each used at least once for the 12 images of a class (the eighth image is a bare data set, explicit anyway).
// JPEG extended with 12-bit samples is written by DCMTK's dcmcjpeg (CI installs it).
const ENCODINGS: Encoding[] = [
  'jpeg-2000',
  'jpeg-lossless',
  'deflated',
  ...(hasDcmtk ? (['jpeg-extended'] as const) : []),
  'rle',
  'jpeg-ls',
  'implicit',
  'explicit',
];

test('a zip of DICOM files loads, counts, groups by patient, trains and predicts', async ({ page }) => {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`/?size=${SIZE}&epochs=1&batch=16&holdout=20`);

  const writer = new ZipWriter(new Uint8ArrayWriter());
  let n = 0;
  for (const [className, bright] of [
    ['NORMAL', false],
    ['PNEUMONIA', true],
  ] as const) {
    for (let i = 0; i < 12; i++) {
      const encoding = ENCODINGS[i % ENCODINGS.length];
      // Two images a patient; MONOCHROME1 files store the picture inverted, and must come out as the others.
      const spec = image(i % 4 === 3 ? !bright : bright, n, {
        encoding,
        patientId: `${SECRET}${className}-${i >> 1}`,
        ...(i % 4 === 3 ? { photometric: 'MONOCHROME1' } : {}),
        ...(i === 5 ? { modality: '<b>DX</b>', viewPosition: '<i>PA' } : {}),
        ...(i === 7 ? { bare: true, encoding: 'explicit' } : {}),
      });
      const name = i % 3 === 0 ? `1.2.826.0.1.3680043.${n}` : `${className.toLowerCase()}-${i}.dcm`;
      await writer.add(`export/train/${className}/${name}`, new Uint8ArrayReader(await writeDicom(spec)));
      n++;
    }
  }
  // A JPEG among them, counted like any image.
  const jpeg = encodeImage(new Uint8Array(SIZE * SIZE).fill(40), SIZE, 'jpeg');
  await writer.add('export/train/NORMAL/plain.jpeg', new Uint8ArrayReader(jpeg));
  await writer.add(
    'export/train/NORMAL/report.dcm',
    new Uint8ArrayReader(await writeDicom({ ...image(false, 1), noPixels: true })),
  );
  await writer.add(
    'export/train/PNEUMONIA/video.dcm',
    new Uint8ArrayReader(
      await writeDicom({ ...image(true, 1), encoding: 'rle', transferSyntax: '1.2.840.10008.1.2.4.100' }),
    ),
  );
  const zip = await writer.close();
  await page
    .getByLabel('Dataset', { exact: true })
    .setInputFiles({ name: 'dicom.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) });
  await expectStatus(page, 'ready');

  const summary = await readSummary(page);
  expect(summary.train.NORMAL + summary.test.NORMAL + summary.validation.NORMAL).toBe(13);
  expect(summary.train.PNEUMONIA + summary.test.PNEUMONIA + summary.validation.PNEUMONIA).toBe(12);
  await expect(page.getByTestId('dicom-summary')).toHaveText(
    '24 DICOM files among the images (modalities: CR 22, <b>DX</b> 2).',
  );
  await page.getByText(/^Skipped \d+ entr/).click();
  const skipped = page.getByRole('list', { name: 'Skipped entries' });
  await expect(page.getByText(/^Skipped \d+ entr/)).toContainText('2 DICOM files that cannot be used');
  await expect(skipped).toContainText('export/train/NORMAL/report.dcm — DICOM: no pixel data');
  await expect(skipped).toContainText(
    'export/train/PNEUMONIA/video.dcm — DICOM: transfer syntax 1.2.840.10008.1.2.4.100 (MPEG2) is not supported',
  );
  // 12 patients from PatientID, and the JPEG its own: grouped, and never shown in clear.
  await expect(page.getByRole('region', { name: 'Dataset health' })).toContainText('13 patients');
  await expect(page.getByTestId('dicom-tags').first()).toHaveText(/ · 12 bits stored · 40 × 40$/);
  expect(await page.content()).not.toContain(SECRET);

  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expectStatus(page, 'done', 180_000);
  await reportShown(page);

  // The model card in the download: its figures are the page's, its data the loaded DICOM files'.
  await page.getByLabel('Model format').selectOption({ label: 'TensorFlow.js' });
  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download model' }).click();
  const saved = await (await pending).createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of saved) chunks.push(chunk as Buffer);
  const reader = new ZipReader(new BlobReader(new Blob([Buffer.concat(chunks)])));
  const inZip = new Map<string, string>();
  for (const entry of await reader.getEntries())
    if (!entry.directory) inZip.set(entry.filename, await entry.getData(new TextWriter()));
  await reader.close();
  const card = JSON.parse(inZip.get('model-card.json')!) as {
    data: { dicom: { images: number; modalities: Record<string, number> }; patients: { total: number } };
    metrics: { figures: Record<string, { value: number; interval: [number, number] | null }> };
  };
  expect(card.data.dicom).toEqual({ images: 24, modalities: { CR: 22, '<b>DX</b>': 2 } });
  expect(card.data.patients.total).toBe(13);
  expect(Math.abs(card.metrics.figures.accuracy.value - (await metric(page, 'Accuracy')))).toBeLessThan(0.0006);
  expect(Math.abs(card.metrics.figures.sensitivity.value - (await metric(page, 'Sensitivity')))).toBeLessThan(0.0006);
  const markdown = inZip.get('model-card.md')!;
  expect(markdown).toContain('This model is not a medical device.');
  expect(markdown).toContain('&lt;b&gt;DX&lt;/b&gt; 2');
  expect(markdown).not.toContain(SECRET);

  // Predict: `.dcm` files and an extensionless one, MONOCHROME1, colour and (with DCMTK) 12-bit JPEG among them.
  const rgb: DicomSpec = {
    width: 40,
    height: 40,
    values: Array.from({ length: 4800 }, (_, i) => (i % 3 === 0 ? 200 : 60) + ((i >> 2) % 40)),
    bitsAllocated: 8,
    samplesPerPixel: 3,
    photometric: 'RGB',
    extra: { PlanarConfiguration: 0 },
  };
  const files = [
    { name: 'bright.dcm', spec: image(true, 7) },
    { name: 'dark-mono1.dcm', spec: image(true, 8, { photometric: 'MONOCHROME1', encoding: 'jpeg-ls' }) },
    { name: '1.2.3.4.5', spec: image(false, 9, { encoding: 'jpeg-2000' }) },
    { name: 'colour.dcm', spec: rgb },
    ...(hasDcmtk ? [{ name: 'twelve-bit.dcm', spec: image(false, 10, { encoding: 'jpeg-extended' }) }] : []),
  ];
  const inputs = await Promise.all(
    files.map(async (f) => ({ name: f.name, mimeType: '', buffer: Buffer.from(await writeDicom(f.spec)) })),
  );
  await page.getByLabel('Images to predict').setInputFiles(inputs);
  const rows = page.getByRole('table', { name: 'Predictions' }).locator('tbody tr');
  await expect(rows).toHaveCount(files.length);
  // A display window on the predicted images changes no score: the model saw the images as loaded.
  const table = page.getByRole('table', { name: 'Predictions' });
  const scores = await table.innerText();
  await page.getByRole('group', { name: 'Display window: predictions' }).getByLabel('Window centre').fill('40');
  await expect(page.getByRole('group', { name: 'Display window: samples' }).getByLabel('Window centre')).toHaveValue(
    '40',
  );
  expect(await table.innerText()).toBe(scores);
  expect(dialogs).toEqual([]);
  expect(pageErrors).toEqual([]);
});

test('a flat folder of DICOM files is labelled by a labels file; unmatched rows and files are listed', async ({
  page,
}) => {
  await page.goto(`/?size=${SIZE}&holdout=20`);
  const files = [];
  const rows = ['file,label,patient'];
  for (let i = 0; i < 24; i++) {
    const bright = i % 2 === 1;
    const name = `IM${String(i).padStart(4, '0')}`;
    files.push({ name, mimeType: '', buffer: Buffer.from(await writeDicom(image(bright, i))) });
    if (i < 22) rows.push(`${name},${bright ? 'PNEUMONIA' : 'NORMAL'},${SECRET}${i >> 2}`);
  }
  // The last row: a long export path that names no file; listed, it wraps rather than widen a phone's page.
  const longPath = 'hospital_export_2026/radiology/chest/series_0000123456789/study_0000987654321/IM9998';
  rows.push('IM9999,NORMAL,', 'IM0001,<b>NORMAL</b>,', `${longPath},NORMAL,`);
  await page
    .getByLabel('Labels file')
    .setInputFiles({ name: 'labels.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
  await expect(page.getByTestId('labels-file')).toContainText('Using labels.csv');
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(files);
  await expectStatus(page, 'ready');

  const summary = await readSummary(page);
  expect(summary.train.NORMAL + summary.test.NORMAL + summary.validation.NORMAL).toBe(11);
  expect(summary.train.PNEUMONIA + summary.test.PNEUMONIA + summary.validation.PNEUMONIA).toBe(11);
  const report = page.getByTestId('labels-report');
  await expect(report).toContainText(
    'Labels file labels.csv: 22 of 25 rows matched a file; 3 rows and 2 image files unmatched.',
  );
  await report.getByText('Unmatched rows').click();
  await expect(report.getByRole('list', { name: 'Unmatched rows' })).toContainText('line 24: IM9999 — no such file');
  await expect(report.getByRole('list', { name: 'Unmatched rows' })).toContainText(
    'line 25: IM0001 — the file already has a row (line 3)',
  );
  await expect(report.getByRole('list', { name: 'Unmatched rows' })).toContainText(
    `line 26: ${longPath} — no such file`,
  );
  await report.getByText('Unmatched files').click();
  await expect(report.getByRole('list', { name: 'Unmatched files' })).toHaveText(/IM0022\s*IM0023/);
  await expectNoSidewaysScroll(page, 360);
  await page.setViewportSize({ width: 1280, height: 720 });
  await expect(page.getByRole('region', { name: 'Dataset health' })).toContainText('6 patients');
  expect(await page.content()).not.toContain(SECRET);

  // The display window changes what a sample shows, and the full range brings it back.
  const canvas = page.getByRole('figure', { name: 'Sample images' }).getByRole('img').first();
  const shown = () =>
    canvas.evaluate((c) =>
      [...(c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 8, 1).data].filter((_, i) => i % 4 === 0),
    );
  const before = await shown();
  const window = page.getByRole('group', { name: 'Display window: samples' });
  await window.getByLabel('Window width').fill('16');
  await expect.poll(shown).not.toEqual(before);
  await window.getByRole('button', { name: 'Full grey range' }).click();
  await expect.poll(shown).toEqual(before);
});
