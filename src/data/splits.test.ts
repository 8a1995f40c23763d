import { describe, expect, it } from 'vitest';
import type { SplitName } from '../core/types';
import { formatPercent, holdOutCount, pickSamples, planValidation } from './splits';
import { mulberry32 } from '../core/random';
import type { ImageEntry } from './types';

function images(split: SplitName, className: string, n: number): ImageEntry[] {
  const folder = split === 'validation' ? 'val' : split;
  return Array.from({ length: n }, (_, i) => ({
    path: `chest_xray/${folder}/${className}/${String(i).padStart(4, '0')}.jpeg`,
    split,
    className,
    read: () => Promise.resolve(new Blob()),
  }));
}

const countOf = (list: ImageEntry[], className: string) => list.filter((e) => e.className === className).length;
const paths = (list: ImageEntry[]) => list.map((e) => e.path);

describe('holdOutCount', () => {
  it('holds out 10%, at least one, never the last image', () => {
    expect([0, 1, 2, 3, 9, 10, 14, 15, 100, 1341, 3875].map((n) => holdOutCount(n))).toEqual([
      0, 0, 1, 1, 1, 1, 1, 2, 10, 134, 388,
    ]);
  });

  it('holds out another share when asked', () => {
    expect([0, 1, 2, 3, 10, 100, 1341].map((n) => holdOutCount(n, 0.25))).toEqual([0, 0, 1, 1, 3, 25, 335]);
    expect([2, 3, 10].map((n) => holdOutCount(n, 0.5))).toEqual([1, 2, 5]);
    expect(holdOutCount(1000, 0.01)).toBe(10);
  });
});

describe('planValidation', () => {
  const classNames = ['NORMAL', 'PNEUMONIA'];

  it('uses the val folder when it has at least 10 images of every class', () => {
    const entries = [
      ...images('train', 'NORMAL', 30),
      ...images('train', 'PNEUMONIA', 40),
      ...images('validation', 'NORMAL', 10),
      ...images('validation', 'PNEUMONIA', 12),
      ...images('test', 'NORMAL', 5),
    ];
    const { train, validation, test, plan } = planValidation(entries, classNames, 1);
    expect(plan.source).toBe('folder');
    expect(plan.description).toBe('Validation: the val folder, 22 images (NORMAL 10, PNEUMONIA 12)');
    expect(train).toHaveLength(70);
    expect(validation.every((e) => e.split === 'validation')).toBe(true);
    expect(validation).toHaveLength(22);
    expect(test).toHaveLength(5);
  });

  it('holds out a stratified 10% when the val folder is too small, folding it into train', () => {
    // The Kaggle chest_xray counts: train 1341 / 3875, val 8 / 8.
    const entries = [
      ...images('train', 'NORMAL', 1341),
      ...images('train', 'PNEUMONIA', 3875),
      ...images('validation', 'NORMAL', 8),
      ...images('validation', 'PNEUMONIA', 8),
      ...images('test', 'NORMAL', 234),
      ...images('test', 'PNEUMONIA', 390),
    ];
    const { train, validation, test, plan } = planValidation(entries, classNames, 1);
    expect(plan.source).toBe('held-out');
    expect(plan.description).toBe(
      'Validation: 10% of train held out (523 images), stratified, seed 1 (the val folder has fewer than 10 images a class, so its 16 images were added to train)',
    );
    expect(countOf(validation, 'NORMAL')).toBe(holdOutCount(1349));
    expect(countOf(validation, 'PNEUMONIA')).toBe(holdOutCount(3883));
    expect(countOf(validation, 'NORMAL')).toBe(135);
    expect(countOf(validation, 'PNEUMONIA')).toBe(388);
    expect(countOf(train, 'NORMAL')).toBe(1349 - 135);
    expect(countOf(train, 'PNEUMONIA')).toBe(3883 - 388);
    expect(test).toHaveLength(624);
    // Every train and val-folder image is in exactly one of the two lists.
    const all = new Set([...paths(train), ...paths(validation)]);
    expect(all.size).toBe(1341 + 3875 + 16);
    expect(validation.some((e) => e.split === 'validation') || train.some((e) => e.split === 'validation')).toBe(true);
  });

  it('says there is no val folder when there is none', () => {
    const entries = [...images('train', 'NORMAL', 20), ...images('train', 'PNEUMONIA', 3)];
    const { validation, plan } = planValidation(entries, classNames, 7);
    expect(plan.description).toBe(
      'Validation: 10% of train held out (3 images), stratified, seed 7 (there is no val folder)',
    );
    expect(countOf(validation, 'NORMAL')).toBe(2);
    expect(countOf(validation, 'PNEUMONIA')).toBe(1);
  });

  it('falls back when one class is short in the val folder, even if the other is not', () => {
    const entries = [
      ...images('train', 'NORMAL', 50),
      ...images('train', 'PNEUMONIA', 50),
      ...images('validation', 'NORMAL', 40),
      ...images('validation', 'PNEUMONIA', 9),
    ];
    const { plan, validation, train } = planValidation(entries, classNames, 1);
    expect(plan.source).toBe('held-out');
    expect(countOf(validation, 'NORMAL')).toBe(9);
    expect(countOf(validation, 'PNEUMONIA')).toBe(6);
    expect(train.length + validation.length).toBe(149);
  });

  it('is deterministic for a seed, differs across seeds, and keeps input order', () => {
    const entries = [
      ...images('train', 'NORMAL', 200),
      ...images('train', 'PNEUMONIA', 300),
      ...images('validation', 'NORMAL', 2),
    ];
    const a = planValidation(entries, classNames, 1);
    const b = planValidation(entries, classNames, 1);
    const c = planValidation(entries, classNames, 2);
    expect(paths(b.validation)).toEqual(paths(a.validation));
    expect(paths(b.train)).toEqual(paths(a.train));
    expect(paths(c.validation)).not.toEqual(paths(a.validation));
    const order = new Map(entries.map((e, i) => [e.path, i]));
    for (const list of [a.train, a.validation]) {
      const indices = list.map((e) => order.get(e.path)!);
      expect(indices).toEqual([...indices].sort((x, y) => x - y));
    }
  });
  it('holds out the share asked for, and says so', () => {
    const entries = [
      ...images('train', 'NORMAL', 100),
      ...images('train', 'PNEUMONIA', 300),
      ...images('validation', 'NORMAL', 8),
      ...images('validation', 'PNEUMONIA', 8),
    ];
    const { train, validation, plan } = planValidation(entries, classNames, 1, 0.25);
    expect(countOf(validation, 'NORMAL')).toBe(27);
    expect(countOf(validation, 'PNEUMONIA')).toBe(77);
    expect(train.length + validation.length).toBe(416);
    expect(plan.description).toMatch(/^Validation: 25% of train held out \(104 images\), stratified, seed 1 /);
    // The same share and seed pick the same images.
    expect(paths(planValidation(entries, classNames, 1, 0.25).validation)).toEqual(paths(validation));
    expect(planValidation(entries, classNames, 1, 0.125).plan.description).toMatch(
      /^Validation: 12.5% of train held out/,
    );
    // A usable val folder wins whatever the share.
    const withFolder = [...entries, ...images('validation', 'NORMAL', 10), ...images('validation', 'PNEUMONIA', 10)];
    expect(planValidation(withFolder, classNames, 1, 0.3).plan.source).toBe('folder');
  });

  it('refuses shares outside (0, 0.5]', () => {
    const entries = [...images('train', 'NORMAL', 20), ...images('train', 'PNEUMONIA', 20)];
    for (const share of [0, -0.1, 0.6, Number.NaN])
      expect(() => planValidation(entries, classNames, 1, share)).toThrow(/validation share/);
    expect(formatPercent(0.1)).toBe('10%');
  });

  it('folds a big val folder into train when train lacks a class', () => {
    const entries = [
      ...images('train', 'NORMAL', 30),
      ...images('validation', 'NORMAL', 12),
      ...images('validation', 'PNEUMONIA', 20),
    ];
    const { train, validation, plan } = planValidation(entries, classNames, 1);
    expect(plan.source).toBe('held-out');
    expect(plan.description).toMatch(/\(train has no PNEUMONIA images, so its 32 images were added to train\)$/);
    expect(countOf(train, 'PNEUMONIA')).toBe(18);
    expect(countOf(validation, 'PNEUMONIA')).toBe(2);
  });
});

describe('pickSamples', () => {
  it('balances classes as far as the data allows', () => {
    const labels = Uint8Array.from([...Array(100).fill(0), ...Array(5).fill(1)]);
    const picked = pickSamples(labels, 2, 24, mulberry32(1));
    expect(picked).toHaveLength(24);
    expect(new Set(picked).size).toBe(24);
    expect(picked.filter((i) => labels[i] === 1)).toHaveLength(5);
    const even = pickSamples(
      Uint8Array.from({ length: 100 }, (_, i) => i % 2),
      2,
      24,
      mulberry32(1),
    );
    expect(even.filter((i) => i % 2 === 1)).toHaveLength(12);
  });

  it('returns everything when there are fewer images than asked, deterministically', () => {
    const labels = Uint8Array.from([0, 1, 1, 0, 2]);
    const picked = pickSamples(labels, 3, 24, mulberry32(5));
    expect([...picked].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(pickSamples(labels, 3, 24, mulberry32(5))).toEqual(picked);
  });
});
