import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import { classShortcuts, type FilmFacts } from './classShortcuts';

/**
 * `n` training films a class: NORMAL's detail about -2.38, PNEUMONIA's `detailShift` lower; NORMAL stored at about
 * 1,600 x 1,260 px, PNEUMONIA at `sizeFactor` times that a side.
 */
function films(n: number, detailShift: number, sizeFactor: number, seed = 1): FilmFacts[] {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return ['NORMAL', 'PNEUMONIA'].flatMap((className, c) =>
    Array.from({ length: n }, (_, i) => ({
      path: `${className}/${i}.jpeg`,
      folder: 'train' as const,
      split: 'train' as const,
      className,
      patient: null,
      file: null,
      pixels: null,
      width: Math.round((1600 + 200 * normal()) * (c ? sizeFactor : 1)),
      height: Math.round((1260 + 150 * normal()) * (c ? sizeFactor : 1)),
      detail: -2.38 - (c ? detailShift : 0) + 0.15 * normal(),
    })),
  );
}

describe('what besides the disease tells the classes apart', () => {
  it('finds softer, smaller pneumonia films as in the public archive, and how well that alone separates', () => {
    const [detail, size] = classShortcuts(films(300, 0.32, 0.75), ['NORMAL', 'PNEUMONIA']);
    expect(detail).toMatchObject({ property: 'detail', className: 'PNEUMONIA', otherClass: 'NORMAL' });
    expect(detail.ratio).toBeCloseTo(Math.exp(-0.32), 1);
    // Two Gaussians 0.32 apart with sd 0.15: AUC = Φ(0.32 / (0.15 √2)) ≈ 0.93.
    expect(detail.separation).toBeGreaterThan(0.88);
    expect(detail.separation).toBeLessThan(0.97);
    expect(size.property).toBe('size');
    expect(size.ratio).toBeCloseTo(0.5625, 1);
    expect(size.medians!.width).toBeLessThan(size.medians!.otherWidth);
    expect(size.separation).toBeGreaterThan(0.9);
  });

  it('says they differ little when they do not, reads only training films, and skips what too few films say', () => {
    const alike = classShortcuts(films(300, 0, 1), ['NORMAL', 'PNEUMONIA']);
    for (const s of alike) expect(s.separation).toBeLessThan(0.6);
    // The test films differ, the training films do not: a model learns from the training films.
    const trainAlike = [
      ...films(300, 0, 1),
      ...films(300, 1, 0.5, 2).map((f) => ({ ...f, split: 'test' as const, folder: 'test' as const })),
    ];
    for (const s of classShortcuts(trainAlike, ['NORMAL', 'PNEUMONIA'])) expect(s.separation).toBeLessThan(0.6);
    expect(classShortcuts(films(10, 1, 0.5), ['NORMAL', 'PNEUMONIA'])).toEqual([]);
    // Unknown detail and size (an older decoder, files without a header): nothing to say.
    const unknown = films(100, 1, 0.5).map((f) => ({ ...f, detail: null, width: 0, height: 0 }));
    expect(classShortcuts(unknown, ['NORMAL', 'PNEUMONIA'])).toEqual([]);
  });

  it('with more classes, names the class most apart from all the others', () => {
    const three = [
      ...films(100, 0, 1),
      ...films(100, 0.5, 1, 3)
        .filter((f) => f.className === 'PNEUMONIA')
        .map((f) => ({ ...f, className: 'COVID' })),
    ];
    const [detail] = classShortcuts(three, ['NORMAL', 'PNEUMONIA', 'COVID']);
    expect(detail).toMatchObject({ className: 'COVID', otherClass: null });
    expect(detail.ratio).toBeLessThan(1);
  });
});
