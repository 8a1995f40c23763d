import { describe, expect, it } from 'vitest';
import { SETTING_PATHS, checkSettingValue, settingRow, settingText, withSetting } from '../../core/settings';
import { probes, refusedTexts } from '../../core/settings.testutil';
import { TUTORIAL_AUGMENTATION } from './augmentationSettings';
import { DEFAULT_SETTINGS, checkSetting, settingsFromQuery, settingsToQuery } from './urlSettings';

describe('settings from the URL', () => {
  it('reads every key', () => {
    const { settings, problems } = settingsFromQuery('?size=64&epochs=2&batch=16&lr=0.0005&backend=cpu&seed=7');
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      ...DEFAULT_SETTINGS,
      imageSize: 64,
      epochs: 2,
      batchSize: 16,
      learningRate: 0.0005,
      backend: 'cpu',
      seed: 7,
    });
  });

  it('keeps defaults and reports values it cannot use', () => {
    const { settings, problems } = settingsFromQuery('?size=10&epochs=two&backend=tpu&batch=3.5');
    expect(settings).toEqual(DEFAULT_SETTINGS);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/Image size must be between 31 and 512/);
  });

  it('round-trips through the query string', () => {
    const custom = { ...DEFAULT_SETTINGS, imageSize: 64, learningRate: 0.01, backend: 'webgl' as const };
    expect(settingsToQuery(custom)).toBe('?size=64&lr=0.01&backend=webgl');
    expect(settingsFromQuery(settingsToQuery(custom)).settings).toEqual(custom);
    expect(settingsToQuery(DEFAULT_SETTINGS)).toBe('');
  });

  it('checks ranges and whole numbers', () => {
    expect(checkSetting('epochs', 0)).toMatch(/between 1 and/);
    expect(checkSetting('batchSize', 2.5)).toMatch(/whole number/);
    expect(checkSetting('learningRate', 0.001)).toBeNull();
  });
});

describe('patient grouping in the URL', () => {
  it('reads the grouping and a pattern, and refuses a pattern that is no regular expression', () => {
    const { settings, problems } = settingsFromQuery('?group=regex&groupre=' + encodeURIComponent('^(pt\\d+)_'));
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({ groupBy: 'regex', groupPattern: '^(pt\\d+)_' });
    expect(settingsFromQuery(settingsToQuery(settings)).settings).toEqual(settings);
    const bad = settingsFromQuery('?group=none&groupre=' + encodeURIComponent('(pt'));
    expect(bad.settings).toMatchObject({ groupBy: 'none', groupPattern: DEFAULT_SETTINGS.groupPattern });
    expect(bad.problems).toEqual([
      expect.stringMatching(
        /^Patient pattern must be a valid regular expression .*\(URL parameter groupre=\(pt ignored\)$/,
      ),
    ]);
  });
});

describe('augmentation and validation size in the URL', () => {
  it('defaults to the acquisition changes with zoom, without flipping, and 10% validation', () => {
    expect(DEFAULT_SETTINGS.augmentation).toEqual({
      rotation: 0,
      zoom: 0.2,
      shift: 0,
      shear: 0,
      brightness: 0,
      horizontalFlip: false,
      contrast: 0.4,
      gamma: 0.5,
      blur: 1,
      noise: 0.04,
      crop: 0,
    });
    expect(settingsToQuery(DEFAULT_SETTINGS)).toBe('');
    expect(DEFAULT_SETTINGS.validationPercent).toBe(10);
  });

  it('reads rot, zoom, shift, shear, bright, flip and val', () => {
    const { settings, problems } = settingsFromQuery('?rot=30&zoom=0.15&shift=0&shear=5&bright=0.25&flip=1&val=20');
    expect(problems).toEqual([]);
    expect(settings.augmentation).toEqual({
      rotation: 30,
      zoom: 0.15,
      shift: 0,
      shear: 5,
      brightness: 0.25,
      horizontalFlip: true,
      contrast: 0.4,
      gamma: 0.5,
      blur: 1,
      noise: 0.04,
      crop: 0,
    });
    expect(settings.validationPercent).toBe(20);
    expect(settingsFromQuery('?flip=off').settings.augmentation.horizontalFlip).toBe(false);
    const acquisition = settingsFromQuery('?contrast=0.3&gamma=0.25&blur=1.5&noise=0.03');
    expect(acquisition.problems).toEqual([]);
    expect(acquisition.settings.augmentation).toMatchObject({ contrast: 0.3, gamma: 0.25, blur: 1.5, noise: 0.03 });
    expect(settingsFromQuery('?noise=0.5').problems.join()).toMatch(/Noise must be between 0 and 0.2/);
    expect(settingsFromQuery('?crop=0.35').settings.augmentation.crop).toBe(0.35);
    expect(settingsFromQuery('?crop=0.7').problems.join()).toMatch(/Crop must be between 0 and 0.6/);
  });

  it('round-trips, writing only what differs from the defaults', () => {
    const custom = {
      ...DEFAULT_SETTINGS,
      augmentation: { ...DEFAULT_SETTINGS.augmentation, rotation: 10, brightness: 0.3, horizontalFlip: true },
      validationPercent: 25,
    };
    expect(settingsToQuery(custom)).toBe('?val=25&rot=10&bright=0.3&flip=1');
    expect(settingsFromQuery(settingsToQuery(custom)).settings).toEqual(custom);
    const tutorial = { ...DEFAULT_SETTINGS, augmentation: TUTORIAL_AUGMENTATION };
    expect(settingsToQuery(tutorial)).toBe('?rot=10&shift=0.1&shear=10&contrast=0&gamma=0&blur=0&noise=0');
    expect(settingsFromQuery(settingsToQuery(tutorial)).settings).toEqual(tutorial);
  });

  it('keeps the defaults for values out of range and says why', () => {
    const { settings, problems } = settingsFromQuery('?rot=-5&zoom=1.5&flip=maybe&val=0&bright=x');
    expect(settings).toEqual(DEFAULT_SETTINGS);
    expect(problems).toHaveLength(5);
    expect(problems.join(' ')).toMatch(
      /Validation size must be between 1 and 50.*Rotation must be between 0 and 180.*Zoom must be between 0 and 0.9.*Brightness must be a number.*Horizontal flip must be 1 or 0/,
    );
  });
});

describe('class weights, patience and test hold-out in the URL', () => {
  it('default to balanced weights, patience 0 (early stopping off) and no hold-out', () => {
    expect(DEFAULT_SETTINGS).toMatchObject({ classWeighting: 'balanced', patience: 0, testPercent: 0 });
  });

  it('read weights, patience and holdout, and round-trip', () => {
    const { settings, problems } = settingsFromQuery('?weights=none&patience=3&holdout=15');
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({ classWeighting: 'none', patience: 3, testPercent: 15 });
    expect(settingsToQuery(settings)).toBe('?patience=3&holdout=15&weights=none');
    expect(settingsFromQuery(settingsToQuery(settings)).settings).toEqual(settings);
  });

  it('refuse values they cannot use', () => {
    const { settings, problems } = settingsFromQuery('?weights=heavy&patience=-1&holdout=60');
    expect(settings).toEqual(DEFAULT_SETTINGS);
    expect(problems.join(' ')).toMatch(
      /Patience must be between 0 and 500.*Test hold-out must be between 0 and 50.*Class weights must be one of balanced, none/,
    );
  });
});

describe('every row of the settings table in the URL', () => {
  it.each(SETTING_PATHS)('%s: each value it accepts round-trips under its key', (path) => {
    const { query } = settingRow(path);
    for (const { value } of probes(path).filter((probe) => probe.ok)) {
      const settings = withSetting(DEFAULT_SETTINGS, path, value as never);
      const search = settingsToQuery(settings);
      if (value !== settingRow(path).default)
        expect(search).toBe(`?${query}=${encodeURIComponent(settingText(path, value))}`);
      expect(settingsFromQuery(search)).toEqual({ settings, problems: [] });
    }
  });

  it.each(SETTING_PATHS)('%s: each value it refuses is ignored, with a problem naming key and value', (path) => {
    const { label, query } = settingRow(path);
    const base = withSetting(
      DEFAULT_SETTINGS,
      path,
      probes(path).find((probe) => probe.ok && probe.value !== settingRow(path).default)!.value as never,
    );
    for (const text of refusedTexts(path)) {
      const { settings, problems } = settingsFromQuery(`?${query}=${encodeURIComponent(text)}`, base);
      expect(settings).toEqual(base);
      expect(problems).toEqual([
        expect.stringMatching(new RegExp(`^${label} must be .*\\(URL parameter ${query}=.+ ignored\\)$`)),
      ]);
    }
  });

  it('ignores blank values and unknown keys', () => {
    expect(settingsFromQuery('?size=&epochs=%20&backend=&colour=red')).toEqual({
      settings: DEFAULT_SETTINGS,
      problems: [],
    });
  });

  it('checks the form the same way (one check for page and worker)', () => {
    expect(checkSetting).toBe(checkSettingValue);
    expect(checkSetting('imageSize', 512)).toBeNull();
    expect(checkSetting('imageSize', 513)).toBe('Image size must be between 31 and 512.');
    expect(checkSetting('augmentation.rotation', 181)).toBe('Rotation must be between 0 and 180.');
  });
});
