import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import { demoFileName, makeDemoDataset, syntheticImage, syntheticName, syntheticSplit } from './synthetic';

const mean = (values: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
};

describe('syntheticImage', () => {
  it('is a deterministic size*size grey image using the whole range', () => {
    const a = syntheticImage(1, 48, mulberry32(4));
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a).toHaveLength(48 * 48);
    expect(syntheticImage(1, 48, mulberry32(4))).toEqual(a);
    expect(syntheticImage(1, 48, mulberry32(5))).not.toEqual(a);
    expect(Math.min(...a)).toBeLessThan(50);
    expect(Math.max(...a)).toBeGreaterThan(150);
  });

  it('works at tiny and large sizes', () => {
    expect(syntheticImage(0, 1, mulberry32(1))).toHaveLength(1);
    expect(syntheticImage(1, 300, mulberry32(1))).toHaveLength(90000);
    expect(() => syntheticImage(0, 0, mulberry32(1))).toThrow(RangeError);
  });

  it('makes PNEUMONIA lungs brighter than NORMAL lungs', () => {
    // Mean of a central band over both lung fields, per class.
    const size = 32;
    const lungBand = (pixels: Uint8Array) => {
      const values: number[] = [];
      for (let y = 8; y < 24; y++)
        for (let x = 6; x < 26; x++) if (Math.abs(x - 16) > 3) values.push(pixels[y * size + x]);
      return mean(values);
    };
    const images = syntheticSplit('train', 100, size, 1);
    const normal = mean(images.filter((i) => i.classIndex === 0).map((i) => lungBand(i.pixels)));
    const pneumonia = mean(images.filter((i) => i.classIndex === 1).map((i) => lungBand(i.pixels)));
    expect(pneumonia - normal).toBeGreaterThan(8);
  });

  it('is learnable at 32 px: even a nearest-centroid classifier beats 80% on held-out images', () => {
    const size = 32;
    const train = syntheticSplit('train', 150, size, 1);
    const test = syntheticSplit('test', 100, size, 1);
    // Features: the brightest 3x3-blurred spot inside the central region, and the mean there.
    const features = (p: Uint8Array) => {
      let peak = 0;
      let sum = 0;
      let n = 0;
      for (let y = 6; y < 26; y++) {
        for (let x = 4; x < 28; x++) {
          let box = 0;
          for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) box += p[(y + dy) * size + x + dx];
          peak = Math.max(peak, box / 9);
          sum += p[y * size + x];
          n++;
        }
      }
      return [peak - sum / n];
    };
    const centroid = (c: number) => mean(train.filter((i) => i.classIndex === c).map((i) => features(i.pixels)[0]));
    const [c0, c1] = [centroid(0), centroid(1)];
    const correct = test.filter((i) => {
      const f = features(i.pixels)[0];
      return (Math.abs(f - c1) < Math.abs(f - c0) ? 1 : 0) === i.classIndex;
    }).length;
    expect(correct / test.length).toBeGreaterThan(0.8);
  });
});

describe('syntheticSplit', () => {
  it('interleaves classes, and a split does not depend on the size of another', () => {
    const test = syntheticSplit('test', 3, 16, 9);
    expect(test.map((i) => [i.classIndex, i.index])).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
      [0, 2],
      [1, 2],
    ]);
    expect(syntheticSplit('test', 2, 16, 9).map((i) => i.pixels)).toEqual(test.slice(0, 4).map((i) => i.pixels));
    expect(syntheticSplit('train', 1, 16, 9)[0].pixels).not.toEqual(test[0].pixels);
  });

  it('names images like normal-003', () => {
    expect(syntheticName(0, 2)).toBe('normal-003');
    expect(syntheticName(1, 119)).toBe('pneumonia-120');
  });
});

describe('makeDemoDataset', () => {
  it('has the right shapes, labels, paths and counts', () => {
    const d = makeDemoDataset({ size: 32, seed: 2, perClass: { train: 20, validation: 5, test: 7 } });
    expect(d.classNames).toEqual(['NORMAL', 'PNEUMONIA']);
    expect(d.size).toBe(32);
    expect(d.train.count).toBe(40);
    expect(d.train.pixels).toHaveLength(40 * 32 * 32);
    expect(d.train.labels).toHaveLength(40);
    expect([...d.train.labels].filter((l) => l === 1)).toHaveLength(20);
    expect(d.validation.count).toBe(10);
    expect(d.test?.count).toBe(14);
    expect(d.test?.pixels).toHaveLength(14 * 32 * 32);
    expect(d.testPaths).toHaveLength(14);
    expect(d.testPaths[0]).toBe('demo/test/NORMAL/IM-7001-0001.jpeg');
    expect(d.testPaths[5]).toBe('demo/test/PNEUMONIA/person7001_bacteria_3.jpeg');
    d.testPaths.forEach((path, i) => expect(path).toContain(`/${d.classNames[d.test!.labels[i]]}/`));
    expect(d.validationPaths).toHaveLength(10);
    d.validationPaths.forEach((path, i) => {
      expect(path).toMatch(/^demo\/val\//);
      expect(path).toContain(`/${d.classNames[d.validation.labels[i]]}/`);
    });
    expect(d.counts).toEqual({
      train: { NORMAL: 20, PNEUMONIA: 20 },
      validation: { NORMAL: 5, PNEUMONIA: 5 },
      test: { NORMAL: 7, PNEUMONIA: 7 },
    });
    expect(d.validationPlan.source).toBe('folder');
    expect(d.skipped).toEqual([]);
  });

  it('gives three images to a patient, named as the real dataset names them, and no patient to two splits', () => {
    const d = makeDemoDataset({ size: 8, perClass: { train: 7, validation: 3, test: 3 } });
    expect(demoFileName('train', 0, 4)).toBe('IM-0002-0002.jpeg');
    expect(demoFileName('train', 1, 3)).toBe('person2_virus_4.jpeg');
    // Train: NORMAL 0-6 -> patients of 3, 3, 1 images; PNEUMONIA likewise: 6 patients.
    expect(d.health.patients).toEqual({
      total: 10,
      byFolder: { train: 6, validation: 2, test: 2 },
      bySplit: { train: 6, validation: 2, test: 2 },
    });
    expect(d.train.groups).toHaveLength(14);
    expect(new Set(d.train.groups).size).toBe(6);
    const trainIds = new Set(d.train.groups);
    for (const set of [d.validation, d.test!]) expect([...set.groups!].some((id) => trainIds.has(id))).toBe(false);
    expect(d.health.crossFolderPatients).toEqual([]);
    expect(d.health.duplicates).toEqual([]);
  });

  it('shows 24 balanced samples whose pixels are copies of train images', () => {
    const d = makeDemoDataset({ size: 16 });
    expect(d.train.count).toBe(600);
    expect(d.samples).toHaveLength(24);
    expect(d.samples.filter((s) => s.label === 'PNEUMONIA')).toHaveLength(12);
    for (const sample of d.samples) {
      const name = /(?:IM-(\d+)-(\d+)|person\d+_\w+_(\d+))\.jpeg$/.exec(sample.path)!;
      const i = name[3] ? Number(name[3]) - 1 : (Number(name[1]) - 1) * 3 + Number(name[2]) - 1;
      const position = i * 2 + (sample.label === 'PNEUMONIA' ? 1 : 0);
      expect(sample.pixels).toEqual(d.train.pixels.subarray(position * 256, (position + 1) * 256));
      expect(sample.pixels.buffer).not.toBe(d.train.pixels.buffer);
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    // Everything but the time it took.
    const { stats, ...a } = makeDemoDataset({ size: 16, seed: 1 });
    const { stats: again, ...b } = makeDemoDataset({ size: 16, seed: 1 });
    expect(b).toEqual(a);
    expect({ ...again, decodeMs: 0 }).toEqual({ ...stats, decodeMs: 0 });
    expect(makeDemoDataset({ size: 16, seed: 2 }).train.pixels).not.toEqual(a.train.pixels);
  });

  it('has no test set when asked for none, and refuses nonsense counts', () => {
    const d = makeDemoDataset({ size: 8, perClass: { train: 2, validation: 1, test: 0 } });
    expect(d.test).toBeNull();
    expect(d.testPaths).toEqual([]);
    expect(() => makeDemoDataset({ size: 8, perClass: { train: 0, validation: 1, test: 1 } })).toThrow(RangeError);
    expect(() => makeDemoDataset({ size: 8, perClass: { train: 1.5, validation: 1, test: 1 } })).toThrow(RangeError);
  });
});
