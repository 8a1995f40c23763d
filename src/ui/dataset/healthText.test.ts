import { describe, expect, it } from 'vitest';
import type { DatasetHealth } from '../../data/health';
import { healthFindings } from './healthText';

const names = ['NORMAL', 'PNEUMONIA'];

function health(more: Partial<DatasetHealth> = {}): DatasetHealth {
  return {
    images: 40,
    patients: {
      total: 25,
      byFolder: { train: 20, validation: 0, test: 5 },
      bySplit: { train: 18, validation: 2, test: 5 },
    },
    crossFolderPatients: [],
    duplicates: [],
    classCounts: { train: [10, 26], validation: [1, 1], test: [2, 0] },
    sizes: {
      known: 40,
      width: { min: 224, median: 224, max: 224 },
      height: { min: 224, median: 224, max: 224 },
      distinct: 1,
    },
    filesHashed: true,
    ...more,
  };
}

const text = (h: DatasetHealth, groupBy: 'patient' | 'none' = 'patient') =>
  Object.fromEntries(healthFindings(h, names, groupBy).map((f) => [f.id, f.text]));

describe('the Dataset health findings', () => {
  it('say patients, no leaks, class balance and sizes for a clean dataset', () => {
    const found = healthFindings(health(), names, 'patient');
    expect(found.some((f) => f.warning)).toBe(false);
    expect(text(health())).toEqual({
      patients:
        '25 patients (by file name) in 40 images; validation and a test hold-out keep each patient on one side.',
      'cross-folder': 'No patient appears in more than one split folder.',
      'duplicates-across': 'No duplicate images (same bytes, or the same decoded pixels), within or across splits.',
      balance:
        'Classes per split as used: train: NORMAL 10 (27.8%), PNEUMONIA 26 (72.2%), 2.6 : 1; validation: NORMAL 1 (50.0%), PNEUMONIA 1 (50.0%), 1.0 : 1; test: NORMAL 2 (100.0%), PNEUMONIA 0 (0.0%), a class is missing.',
      sizes: 'Stored size: all 40 images are 224 × 224 px.',
    });
  });

  it('name patients in two split folders and duplicates across splits, with counts, as leaks', () => {
    const h = health({
      crossFolderPatients: [{ patient: 'person1', folders: { train: 3, test: 1 } }],
      duplicates: [
        {
          kind: 'file',
          images: [
            { path: 'test/NORMAL/copy.png', split: 'test' },
            { path: 'train/NORMAL/a.png', split: 'train' },
          ],
          acrossSplits: true,
        },
        {
          kind: 'pixels',
          images: [
            { path: 'train/NORMAL/b.png', split: 'train' },
            { path: 'train/NORMAL/b.jpeg', split: 'train' },
          ],
          acrossSplits: false,
        },
      ],
    });
    const found = healthFindings(h, names, 'patient');
    expect(found.filter((f) => f.warning).map((f) => f.id)).toEqual(['cross-folder', 'duplicates-across']);
    expect(text(h)['cross-folder']).toBe(
      '1 patient appears in more than one split folder, a leak in the archive itself: person1 (train 3, test 1).',
    );
    expect(text(h)['duplicates-across']).toMatch(
      /^1 image is duplicated across splits \(2 files; .*test\/NORMAL\/copy.png \(test\) = train\/NORMAL\/a.png \(train\)\.$/,
    );
    expect(text(h)['duplicates-within']).toMatch(/^1 image is duplicated within one split \(2 files;/);
  });

  it('say why patients are unknown, and list at most five names', () => {
    const many = Array.from({ length: 7 }, (_, i) => ({ patient: `person${i}`, folders: { train: 1, validation: 1 } }));
    expect(text(health({ patients: null }), 'none').patients).toMatch(/^Grouping is off \(Group by: none\)/);
    expect(text(health({ patients: null })).patients).toMatch(/^No file name says which patient/);
    expect(text(health({ crossFolderPatients: many }))['cross-folder']).toMatch(
      /person4 \(train 1, val 1\); and 2 more\.$/,
    );
  });
});
