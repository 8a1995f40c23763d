import { describe, expect, it } from 'vitest';
import { buildSyntheticZip } from '../../scripts/syntheticZip';
import { loadDataset, type DecodeFn } from './loadDataset';
import { holdOutTest, holdOutTestByPattern, testHoldoutCount } from './testHoldout';
import { patientKey } from './patients';
import type { ImageEntry } from './types';

function entry(split: ImageEntry['split'], className: string, i: number): ImageEntry {
  return {
    path: `chest_xray/${split}/${className}/${i}.jpeg`,
    split,
    className,
    read: async () => new Blob([String(i)]),
  };
}

function archive(normal: number, pneumonia: number, test = 0): ImageEntry[] {
  return [
    ...Array.from({ length: normal }, (_, i) => entry('train', 'NORMAL', i)),
    ...Array.from({ length: pneumonia }, (_, i) => entry('train', 'PNEUMONIA', i)),
    ...Array.from({ length: test }, (_, i) => entry('test', 'NORMAL', i)),
  ];
}

const names = ['NORMAL', 'PNEUMONIA'];

describe('test hold-out', () => {
  it('moves a stratified, seeded 15% of train to test, the same on every call', () => {
    const entries = archive(1341, 3875);
    const { entries: out, description } = holdOutTest(entries, names, 0.15, 1);
    const test = out.filter((e) => e.split === 'test');
    expect(test.filter((e) => e.className === 'NORMAL')).toHaveLength(201);
    expect(test.filter((e) => e.className === 'PNEUMONIA')).toHaveLength(581);
    expect(out).toHaveLength(entries.length);
    expect(out.map((e) => e.path)).toEqual(entries.map((e) => e.path));
    expect(description).toBe(
      'Test: 15% of train held out (782 images: NORMAL 201, PNEUMONIA 581), stratified, seed 1, because the archive has no test folder',
    );
    const again = holdOutTest(entries, names, 0.15, 1).entries.filter((e) => e.split === 'test');
    expect(again.map((e) => e.path)).toEqual(test.map((e) => e.path));
    const otherSeed = holdOutTest(entries, names, 0.15, 2).entries.filter((e) => e.split === 'test');
    expect(otherSeed.map((e) => e.path)).not.toEqual(test.map((e) => e.path));
  });

  it('keeps a test folder, and does nothing when off', () => {
    const withTest = archive(20, 20, 5);
    expect(holdOutTest(withTest, names, 0.15, 1)).toEqual({ entries: withTest, description: null });
    const noTest = archive(20, 20);
    expect(holdOutTest(noTest, names, 0, 1)).toEqual({ entries: noTest, description: null });
    expect(() => holdOutTest(noTest, names, 0.9, 1)).toThrow(/at most 0.5/);
  });

  it('never takes the last image of a class', () => {
    expect(testHoldoutCount(1, 0.15)).toBe(0);
    expect(testHoldoutCount(2, 0.15)).toBe(1);
    expect(testHoldoutCount(3, 0.5)).toBe(2);
    expect(testHoldoutCount(100, 0.15)).toBe(15);
  });
});

describe('test hold-out by a file-name pattern', () => {
  const named = (className: string, name: string): ImageEntry => ({
    path: `chest_xray/train/${className}/${name}`,
    split: 'train',
    className,
    read: async () => new Blob([name]),
  });
  const entries = [
    named('NORMAL', 'IM-0001-0001.jpeg'),
    named('NORMAL', 'IM-0002-0001.jpeg'),
    named('NORMAL', 'NORMAL2-IM-0003-0001.jpeg'),
    named('NORMAL', 'NORMAL2-IM-0004-0001.jpeg'),
    named('PNEUMONIA', 'person1_bacteria_1.jpeg'),
    named('PNEUMONIA', 'person1500_bacteria_2.jpeg'),
    named('PNEUMONIA', 'person1500_virus_3.jpeg'),
    named('PNEUMONIA', 'person1500_bacteria_4.jpeg'),
  ];

  it('moves the matching images, and the rest of their patients, to test; keeps order; says what it did', () => {
    // Only person1500's first image matches; its other two follow it (one patient, never on both sides).
    const { entries: out, description } = holdOutTestByPattern(
      entries,
      names,
      /^(NORMAL2-|person1500_bacteria_2)/,
      patientKey,
    );
    expect(out.map((e) => e.path)).toEqual(entries.map((e) => e.path));
    expect(out.filter((e) => e.split === 'test').map((e) => e.path.split('/').pop())).toEqual([
      'NORMAL2-IM-0003-0001.jpeg',
      'NORMAL2-IM-0004-0001.jpeg',
      'person1500_bacteria_2.jpeg',
      'person1500_virus_3.jpeg',
      'person1500_bacteria_4.jpeg',
    ]);
    expect(description).toBe(
      'Test: the images of train whose file name matches ^(NORMAL2-|person1500_bacteria_2) (5 images of 3 patients: NORMAL 2, PNEUMONIA 3), whole patients, because the archive has no test folder',
    );
  });

  it('matches the file name, not the folders', () => {
    expect(holdOutTestByPattern(entries, names, /train/).description).toBeNull();
  });

  it('refuses a pattern that takes a whole class out of train', () => {
    expect(() => holdOutTestByPattern(entries, names, /^(IM|NORMAL2)-/, patientKey)).toThrow(
      /every training image of NORMAL/,
    );
  });

  it('keeps a test folder as it is', () => {
    const withTest = [...entries, { ...named('NORMAL', 'IM-0009-0001.jpeg'), split: 'test' as const }];
    expect(holdOutTestByPattern(withTest, names, /^NORMAL2-/).description).toBeNull();
  });
});

describe('loadDataset with a test hold-out', () => {
  // Pixels do not matter here, only which split each image lands in.
  const blank: DecodeFn = async (_blob, size) => ({
    pixels: new Uint8Array(size * size),
    sourceWidth: size,
    sourceHeight: size,
  });

  it('carves the test split from train when the archive has no test folder, and says so', async () => {
    const { zip } = await buildSyntheticZip({
      seed: 2,
      perClass: { train: 20, val: 0, test: 0 },
      imageSize: 16,
      formats: { train: 'png' },
    });
    const blob = new Blob([zip as Uint8Array<ArrayBuffer>]);
    const data = await loadDataset(blob, { size: 16, decode: blank, testHoldout: 0.15 });
    expect(data.test?.count).toBe(6);
    expect([...(data.test?.labels ?? [])].sort()).toEqual([0, 0, 0, 1, 1, 1]);
    expect(data.testPaths.every((p) => p.includes('/train/'))).toBe(true);
    expect(data.testPlan).toMatch(/^Test: 15% of train held out \(6 images: NORMAL 3, PNEUMONIA 3\)/);
    // Validation is then held out of what is left (34 images: 10% a class, rounded).
    expect(data.validation.count + data.train.count).toBe(34);
    const plain = await loadDataset(blob, { size: 16, decode: blank });
    expect(plain.test).toBeNull();
    expect(plain.testPlan).toBeUndefined();
  });
});
