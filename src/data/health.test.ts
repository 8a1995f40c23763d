import { describe, expect, it } from 'vitest';
import type { SplitName } from '../core/types';
import { analyseHealth, type ImageFacts } from './health';

function fact(path: string, split: SplitName, className: string, more: Partial<ImageFacts> = {}): ImageFacts {
  return {
    path,
    folder: split,
    split,
    className,
    patient: null,
    file: `1:${path}`,
    pixels: `p:${path}`,
    width: 0,
    height: 0,
    ...more,
  };
}

const names = ['NORMAL', 'PNEUMONIA'];

describe('dataset health', () => {
  it('finds patients in more than one split folder, with their images in each', () => {
    const facts = [
      fact('train/PNEUMONIA/person1_virus_1.jpeg', 'train', 'PNEUMONIA', { patient: 'person1' }),
      fact('train/PNEUMONIA/person1_virus_2.jpeg', 'validation', 'PNEUMONIA', { patient: 'person1', folder: 'train' }),
      fact('test/PNEUMONIA/person1_bacteria_3.jpeg', 'test', 'PNEUMONIA', { patient: 'person1' }),
      fact('train/NORMAL/IM-0001-0001.jpeg', 'train', 'NORMAL', { patient: 'IM-0001' }),
      fact('train/NORMAL/IM-0001-0002.jpeg', 'train', 'NORMAL', { patient: 'IM-0001' }),
      fact('train/NORMAL/odd.jpeg', 'train', 'NORMAL'),
    ];
    const health = analyseHealth(facts, names);
    expect(health.crossFolderPatients).toEqual([{ patient: 'person1', folders: { train: 2, test: 1 } }]);
    expect(health.patients).toEqual({
      total: 3,
      byFolder: { train: 3, validation: 0, test: 1 },
      bySplit: { train: 3, validation: 1, test: 1 },
    });
    expect(health.classCounts).toEqual({ train: [3, 1], validation: [0, 1], test: [0, 1] });
  });

  it('knows no patients when no name gave one', () => {
    expect(analyseHealth([fact('a.png', 'train', 'NORMAL')], names).patients).toBeNull();
  });

  it('finds byte-identical files and re-encoded copies, leaks across splits first', () => {
    const facts = [
      fact('train/NORMAL/a.jpeg', 'train', 'NORMAL', { file: 'f1', pixels: 'p1' }),
      fact('train/NORMAL/b.jpeg', 'train', 'NORMAL', { file: 'f1', pixels: 'p1' }),
      fact('test/NORMAL/c.jpeg', 'test', 'NORMAL', { file: 'f2', pixels: 'p2' }),
      fact('train/NORMAL/c.png', 'train', 'NORMAL', { file: 'f3', pixels: 'p2' }),
      fact('train/NORMAL/d.jpeg', 'train', 'NORMAL', { file: 'f4', pixels: 'p4' }),
    ];
    expect(analyseHealth(facts, names).duplicates).toEqual([
      {
        kind: 'pixels',
        images: [
          { path: 'test/NORMAL/c.jpeg', split: 'test' },
          { path: 'train/NORMAL/c.png', split: 'train' },
        ],
        acrossSplits: true,
      },
      {
        kind: 'file',
        images: [
          { path: 'train/NORMAL/a.jpeg', split: 'train' },
          { path: 'train/NORMAL/b.jpeg', split: 'train' },
        ],
        acrossSplits: false,
      },
    ]);
  });

  it('sums up stored sizes, leaving out unknown ones', () => {
    const facts = [
      fact('a', 'train', 'NORMAL', { width: 1000, height: 800 }),
      fact('b', 'train', 'NORMAL', { width: 2000, height: 1600 }),
      fact('c', 'train', 'NORMAL', { width: 1200, height: 800 }),
      fact('d', 'train', 'NORMAL', { width: 1000, height: 800 }),
      fact('e', 'train', 'NORMAL'),
    ];
    expect(analyseHealth(facts, names).sizes).toEqual({
      known: 4,
      width: { min: 1000, median: 1100, max: 2000 },
      height: { min: 800, median: 800, max: 1600 },
      distinct: 3,
    });
    expect(analyseHealth([fact('e', 'train', 'NORMAL')], names).sizes).toBeNull();
  });

  it('says whether files were fingerprinted', () => {
    expect(analyseHealth([fact('a', 'train', 'NORMAL', { file: null })], names).filesHashed).toBe(false);
    expect(analyseHealth([fact('a', 'train', 'NORMAL')], names).filesHashed).toBe(true);
  });
});
