import { describe, expect, it } from 'vitest';
import { reloadReason, splitOptionsOf } from './datasetOptions';
import { DEFAULT_SETTINGS } from '../training/urlSettings';
import type { DatasetView } from './useDataset';

function view(testFolder: number, testPercent = 0): DatasetView {
  return {
    size: 64,
    testPercent,
    testPattern: '',
    validationPercent: 10,
    groupBy: DEFAULT_SETTINGS.groupBy,
    groupPattern: DEFAULT_SETTINGS.groupPattern,
    validationPlan: { source: 'held-out', description: '' },
    counts: {
      train: { NORMAL: 10, PNEUMONIA: 10 },
      validation: { NORMAL: 0, PNEUMONIA: 0 },
      test: { NORMAL: testFolder, PNEUMONIA: testFolder },
    },
  } as unknown as DatasetView;
}

describe('when the dataset must be loaded again before training', () => {
  const settings = { ...DEFAULT_SETTINGS, imageSize: 64 };

  it('for a new image size', () => {
    expect(reloadReason(view(5), { ...settings, imageSize: 150 })).toBe('Images will be decoded again at 150 px.');
    expect(reloadReason(view(5), settings)).toBeNull();
  });

  it('for a new test hold-out, only when the archive has no test folder', () => {
    expect(reloadReason(view(0), { ...settings, testPercent: 15 })).toMatch(
      /holding out 15% of train as the test split/,
    );
    expect(reloadReason(view(0, 15), { ...settings, testPercent: 0 })).toMatch(/without a test hold-out/);
    expect(reloadReason(view(0, 15), { ...settings, testPercent: 15 })).toBeNull();
    expect(reloadReason(view(5), { ...settings, testPercent: 15 })).toBeNull();
    expect(splitOptionsOf({ ...settings, testPercent: 15 }).testPercent).toBe(15);
  });

  it('for a new test hold-out pattern, only when the archive has no test folder; the pattern overrides the share', () => {
    expect(reloadReason(view(0), { ...settings, testPattern: '^NORMAL2-' })).toMatch(
      /matches \^NORMAL2- as the test split/,
    );
    expect(reloadReason({ ...view(0), testPattern: '^NORMAL2-' } as DatasetView, settings)).toMatch(
      /without the test hold-out pattern/,
    );
    expect(
      reloadReason({ ...view(0), testPattern: '^NORMAL2-' } as DatasetView, {
        ...settings,
        testPattern: '^NORMAL2-',
        testPercent: 15,
      }),
    ).toBeNull();
    expect(reloadReason(view(5), { ...settings, testPattern: '^NORMAL2-' })).toBeNull();
    expect(splitOptionsOf({ ...settings, testPattern: 'x' }).testPattern).toBe('x');
  });

  it('for a new validation size, only when validation was held out of train', () => {
    expect(reloadReason(view(5), { ...settings, validationPercent: 20 })).toBe(
      'The dataset will be loaded again, holding out 20% of train for validation.',
    );
    const folder = { ...view(5), validationPlan: { source: 'folder', description: '' } } as DatasetView;
    expect(reloadReason(folder, { ...settings, validationPercent: 20 })).toBeNull();
    expect(splitOptionsOf({ ...settings, validationPercent: 25 }).validationPercent).toBe(25);
  });

  it('for a new grouping; for a new pattern only when it is used; never for the demo set', () => {
    expect(reloadReason(view(5), { ...settings, groupBy: 'none' })).toBe(
      'The dataset will be loaded again, grouping images one by one (no patients).',
    );
    expect(reloadReason(view(5), { ...settings, groupPattern: '^(p\\d+)' })).toBeNull();
    const regex = { ...view(5), groupBy: 'regex' } as DatasetView;
    expect(reloadReason(regex, { ...settings, groupBy: 'regex', groupPattern: '^(p\\d+)' })).toMatch(
      /by the Patient pattern/,
    );
    const demo = { ...view(5), source: { kind: 'demo' } } as DatasetView;
    expect(reloadReason(demo, { ...settings, groupBy: 'none' })).toBeNull();
    expect(splitOptionsOf({ ...settings, groupBy: 'regex' })).toMatchObject({
      groupBy: 'regex',
      groupPattern: settings.groupPattern,
    });
  });
});
