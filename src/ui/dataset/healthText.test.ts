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
    shortcuts: [],
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

  it('caution when fine detail or stored size alone tells the classes apart, and say so plainly when not', () => {
    const detail = {
      property: 'detail' as const,
      className: 'PNEUMONIA',
      otherClass: 'NORMAL',
      ratio: 0.7261,
      separation: 0.892,
    };
    const size = {
      property: 'size' as const,
      className: 'PNEUMONIA',
      otherClass: 'NORMAL',
      ratio: 0.5,
      separation: 0.61,
      medians: { width: 1240, height: 827.5, otherWidth: 1616, otherHeight: 1265.5 },
    };
    const found = healthFindings(health({ shortcuts: [detail, size] }), names, 'patient');
    const shortcut = found.find((f) => f.id === 'shortcuts')!;
    // A caution, not a leak: the first line counts leaks only.
    expect(shortcut).toMatchObject({ warning: false, caution: true });
    expect(shortcut.text).toBe(
      "fine detail at the model's input (PNEUMONIA 0.73 times theirs, AUC 0.89) alone tells PNEUMONIA films from " +
        'NORMAL films apart. The disease can soften a film, but so can how it was made: where the classes were ' +
        'filmed differently (another scanner, processing or resolution), a model can learn that instead of the ' +
        'disease, and fail where films are made otherwise. After training, Check acquisition shifts shows how it ' +
        'takes softer films; the Blur of Augmentation trains against it.',
    );
    const bySize = healthFindings(health({ shortcuts: [{ ...size, separation: 0.8 }] }), names, 'patient');
    expect(bySize.find((f) => f.id === 'shortcuts')!.text).toMatch(
      /^stored size \(median 1,240 × 828 px against 1,616 × 1,266 px, AUC 0\.80\) alone tells .* Stored size comes from how the films were made, not from the disease:/,
    );
    const weak = healthFindings(
      health({ shortcuts: [{ ...detail, ratio: 0.98, separation: 0.55 }, size] }),
      names,
      'patient',
    );
    expect(weak.find((f) => f.id === 'shortcuts')).toEqual({
      id: 'shortcuts',
      warning: false,
      text:
        "Neither tells PNEUMONIA films from NORMAL films apart well: fine detail at the model's input (PNEUMONIA 0.98 " +
        'times theirs, AUC 0.55) and stored size (median 1,240 × 828 px against 1,616 × 1,266 px, AUC 0.61).',
    });
    expect(text(health()).shortcuts).toBeUndefined();
  });
});
