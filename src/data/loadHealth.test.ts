/** loadDataset's patients and health report, end to end on a zip built here (Node stand-in for the decode workers). */
import { describe, expect, it } from 'vitest';
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import { PNG } from 'pngjs';
import { encodeImage } from '../../scripts/syntheticZip';
import { syntheticImage } from './synthetic';
import { mulberry32 } from '../core/random';
import { rgbaToGrey } from './grey';
import { loadDataset, type DecodeFn } from './loadDataset';

const SIZE = 8;
const decodePng: DecodeFn = async (blob) => {
  const image = PNG.sync.read(Buffer.from(await blob.arrayBuffer()));
  return { pixels: rgbaToGrey(image.data), sourceWidth: image.width, sourceHeight: image.height };
};

/** train: 6 NORMAL patients x 2 images, 6 PNEUMONIA patients x 3; test: 2 + 2 patients, one of them (person1) also in train; one train image copied into test. */
async function archive(): Promise<Blob> {
  const rng = mulberry32(3);
  const files: [string, Uint8Array][] = [];
  const png = (c: number) => encodeImage(syntheticImage(c, SIZE, rng), SIZE, 'png');
  for (let p = 1; p <= 6; p++)
    for (let i = 1; i <= 2; i++) files.push([`x/train/NORMAL/IM-000${p}-000${i}.png`, png(0)]);
  for (let p = 1; p <= 6; p++)
    for (let i = 1; i <= 3; i++) files.push([`x/train/PNEUMONIA/person${p}_virus_${p * 10 + i}.png`, png(1)]);
  for (let p = 7; p <= 8; p++) files.push([`x/test/NORMAL/IM-000${p}-0001.png`, png(0)]);
  files.push([`x/test/PNEUMONIA/person1_bacteria_99.png`, png(1)]);
  files.push([`x/test/PNEUMONIA/person9_bacteria_1.png`, png(1)]);
  files.push([`x/test/NORMAL/copy.png`, files[0][1]]);
  const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false, level: 0 });
  for (const [path, bytes] of files) await writer.add(path, new Uint8ArrayReader(bytes));
  return new Blob([await writer.close()]);
}

describe('loadDataset: patients and dataset health', () => {
  it('holds out whole patients, numbers them across splits, and reports leaks in the archive', async () => {
    const data = await loadDataset(await archive(), { size: SIZE, decode: decodePng, validationFraction: 0.3 });
    expect(data.validationPlan.description).toMatch(
      /^Validation: 30% of train held out \(\d+ images of \d+ patients\), stratified, by patient, seed 1/,
    );
    const groups = [data.train.groups!, data.validation.groups!, data.test!.groups!];
    groups.forEach((g, i) => expect(g).toHaveLength([data.train, data.validation, data.test!][i].count));
    const trainIds = new Set(groups[0]);
    expect([...groups[1]].filter((id) => trainIds.has(id))).toEqual([]);
    expect(data.health.patients?.byFolder).toEqual({ train: 12, validation: 0, test: 5 });
    expect(data.health.crossFolderPatients).toEqual([{ patient: 'person1', folders: { train: 3, test: 1 } }]);
    expect(data.health.duplicates).toEqual([
      {
        kind: 'file',
        images: [
          { path: 'x/test/NORMAL/copy.png', split: 'test' },
          { path: 'x/train/NORMAL/IM-0001-0001.png', split: expect.stringMatching(/^(train|validation)$/) },
        ],
        acrossSplits: true,
      },
    ]);
    expect(data.health.sizes).toMatchObject({ known: 35, distinct: 1, width: { min: SIZE, max: SIZE } });
  });

  it('splits image by image with grouping off, and knows no patients', async () => {
    const data = await loadDataset(await archive(), {
      size: SIZE,
      decode: decodePng,
      validationFraction: 0.3,
      grouping: { groupBy: 'none', groupPattern: '' },
    });
    expect(data.validationPlan.description).toMatch(
      /^Validation: 30% of train held out \(9 images\), stratified, seed 1/,
    );
    expect(data.train.groups).toBeUndefined();
    expect(data.health.patients).toBeNull();
    expect(data.health.crossFolderPatients).toEqual([]);
    expect(data.health.duplicates).toHaveLength(1);
  });

  it('groups by a custom pattern', async () => {
    const data = await loadDataset(await archive(), {
      size: SIZE,
      decode: decodePng,
      grouping: { groupBy: 'regex', groupPattern: '^(IM-\\d+)' },
    });
    expect(data.health.patients?.byFolder).toEqual({ train: 6 + 18, validation: 0, test: 2 + 3 });
  });
});
