import { describe, expect, it } from 'vitest';
import {
  AUGMENTATION_PATHS,
  DEFAULT_SETTINGS,
  NO_AUGMENTATION,
  SETTING_PATHS,
  checkAugmentation,
  checkEvalSettings,
  checkSettingValue,
  checkTrainSettings,
  isAugmenting,
  parseSettingText,
  settingRow,
  settingText,
  settingValue,
  trainSettingsOf,
  withSetting,
  type SettingPath,
} from './settings';
import { probes } from './settings.testutil';
import type { Settings, TrainSettings } from './types';

const TRAIN_DEFAULTS: TrainSettings = (({
  validationPercent: _v,
  testPercent: _t,
  testPattern: _tp,
  groupBy: _g,
  groupPattern: _p,
  ...train
}) => train)(DEFAULT_SETTINGS);

describe('the settings table', () => {
  it('has the defaults of the studies (docs/benchmarks.md): acquisition augmentation with early stopping off', () => {
    expect(DEFAULT_SETTINGS).toEqual({
      model: 'batchnorm',
      imageSize: 150,
      epochs: 10,
      batchSize: 32,
      learningRate: 0.001,
      learningRateSchedule: 'cosine',
      backend: 'auto',
      seed: 1,
      classWeighting: 'balanced',
      patience: 0,
      augmentation: { ...NO_AUGMENTATION, zoom: 0.2, contrast: 0.4, gamma: 0.5, blur: 1, noise: 0.04 },
      validationPercent: 10,
      testPercent: 0,
      testPattern: '',
      groupBy: 'patient',
      groupPattern: '^(person\\d+|(?:NORMAL\\d*-)?IM-\\d+)',
      thresholdRule: 'sensitivity',
      targetSensitivity: 95,
      temperatureScaling: false,
      intensityNormalisation: 'none',
      testTimeAugmentation: 'off',
      labelSmoothing: 0,
      mixup: 0,
      weightDecay: 1,
      snapshots: 1,
      seedModels: 1,
      ood: 'detail',
    });
  });

  it.each(SETTING_PATHS)('%s: its default passes its own check, and reads back from its text', (path) => {
    const value = settingValue(DEFAULT_SETTINGS, path);
    expect(value).toBe(settingRow(path).default);
    expect(checkSettingValue(path, value)).toBeNull();
    expect(parseSettingText(path, settingText(path, value))).toEqual({ value, problem: null });
  });

  it.each(SETTING_PATHS)('%s: accepts values at its limits and refuses those past them, naming the setting', (path) => {
    const { label } = settingRow(path);
    for (const { value, ok } of probes(path)) {
      const problem = checkSettingValue(path, value);
      if (ok) expect(problem, String(value)).toBeNull();
      else expect(problem, String(value)).toMatch(new RegExp(`^${label} must be`));
    }
  });

  it.each(SETTING_PATHS)('%s: reads back the text of every value it accepts', (path) => {
    for (const { value } of probes(path).filter((probe) => probe.ok)) {
      expect(parseSettingText(path, settingText(path, value))).toEqual({ value, problem: null });
    }
  });

  it('keeps the labels and URL keys the page contract names, each once', () => {
    const rows = SETTING_PATHS.map((path) => [path, settingRow(path).label, settingRow(path).query]);
    expect(rows).toEqual([
      ['model', 'Model', 'model'],
      ['imageSize', 'Image size', 'size'],
      ['epochs', 'Epochs', 'epochs'],
      ['batchSize', 'Batch size', 'batch'],
      ['learningRate', 'Learning rate', 'lr'],
      ['learningRateSchedule', 'Learning-rate schedule', 'schedule'],
      ['seed', 'Seed', 'seed'],
      ['patience', 'Patience', 'patience'],
      ['validationPercent', 'Validation size', 'val'],
      ['testPercent', 'Test hold-out', 'holdout'],
      ['testPattern', 'Test hold-out pattern', 'testre'],
      ['groupBy', 'Group by', 'group'],
      ['groupPattern', 'Patient pattern', 'groupre'],
      ['backend', 'Backend', 'backend'],
      ['classWeighting', 'Class weights', 'weights'],
      ['thresholdRule', 'Threshold rule', 'rule'],
      ['targetSensitivity', 'Target sensitivity', 'sens'],
      ['temperatureScaling', 'Temperature scaling', 'temp'],
      ['augmentation.rotation', 'Rotation', 'rot'],
      ['augmentation.zoom', 'Zoom', 'zoom'],
      ['augmentation.shift', 'Shift', 'shift'],
      ['augmentation.shear', 'Shear', 'shear'],
      ['augmentation.brightness', 'Brightness', 'bright'],
      ['augmentation.horizontalFlip', 'Horizontal flip', 'flip'],
      ['intensityNormalisation', 'Intensity normalisation', 'norm'],
      ['augmentation.contrast', 'Contrast', 'contrast'],
      ['augmentation.gamma', 'Gamma', 'gamma'],
      ['augmentation.blur', 'Blur', 'blur'],
      ['augmentation.noise', 'Noise', 'noise'],
      ['augmentation.crop', 'Crop', 'crop'],
      ['labelSmoothing', 'Label smoothing', 'smooth'],
      ['mixup', 'Mixup', 'mixup'],
      ['weightDecay', 'Weight decay', 'wd'],
      ['snapshots', 'Snapshot ensemble', 'snapshots'],
      ['seedModels', 'Seed ensemble', 'seedModels'],
      ['ood', 'Unlike-training detector', 'ood'],
      ['testTimeAugmentation', 'Test-time augmentation', 'tta'],
    ]);
  });

  it('keeps the ranges the form has had', () => {
    const ranges = Object.fromEntries(
      SETTING_PATHS.flatMap((path) => {
        const row = settingRow(path);
        return row.kind === 'number' ? [[path, [row.min, row.max]]] : [];
      }),
    );
    expect(ranges).toEqual({
      imageSize: [31, 512],
      epochs: [1, 500],
      batchSize: [1, 1024],
      learningRate: [1e-6, 1],
      seed: [0, 2 ** 31 - 1],
      patience: [0, 500],
      validationPercent: [1, 50],
      testPercent: [0, 50],
      targetSensitivity: [50, 100],
      'augmentation.rotation': [0, 180],
      'augmentation.zoom': [0, 0.9],
      'augmentation.shift': [0, 0.5],
      'augmentation.shear': [0, 45],
      'augmentation.brightness': [0, 0.9],
      'augmentation.contrast': [0, 0.9],
      'augmentation.gamma': [0, 2],
      'augmentation.blur': [0, 4],
      'augmentation.noise': [0, 0.2],
      'augmentation.crop': [0, 0.6],
      labelSmoothing: [0, 0.5],
      mixup: [0, 1],
      weightDecay: [0, 10],
      snapshots: [1, 5],
      seedModels: [1, 5],
    });
  });

  it('says which settings only the page reads as it loads a dataset', () => {
    expect(SETTING_PATHS.filter((path) => settingRow(path).use === 'split')).toEqual([
      'validationPercent',
      'testPercent',
      'testPattern',
      'groupBy',
      'groupPattern',
    ]);
  });

  it('says which settings the Results read (sent with each evaluate request, no retraining), and checks them', () => {
    expect(SETTING_PATHS.filter((path) => settingRow(path).use === 'eval')).toEqual([
      'thresholdRule',
      'targetSensitivity',
      'temperatureScaling',
      'testTimeAugmentation',
    ]);
    const evalDefaults = {
      thresholdRule: DEFAULT_SETTINGS.thresholdRule,
      targetSensitivity: 95,
      temperatureScaling: false,
      testTimeAugmentation: 'off' as const,
    };
    expect(checkEvalSettings(evalDefaults)).toBeNull();
    expect(checkEvalSettings({ ...evalDefaults, targetSensitivity: 101 })).toBe(
      'Target sensitivity must be between 50 and 100.',
    );
  });

  it('refuses a patient pattern that is no regular expression, saying why', () => {
    expect(checkSettingValue('groupPattern', '(person\\d+')).toMatch(
      /^Patient pattern must be a valid regular expression \(.*\)\.$/,
    );
    expect(checkSettingValue('groupPattern', '  ')).toBe('Patient pattern must be a regular expression, not empty.');
    // Empty turns the test hold-out pattern off; blanks alone are a mistake, and a broken pattern is refused.
    expect(checkSettingValue('testPattern', '')).toBeNull();
    expect(checkSettingValue('testPattern', ' ')).toBe(
      'Test hold-out pattern must be a regular expression, not empty.',
    );
    expect(checkSettingValue('testPattern', '^(NORMAL2-')).toMatch(
      /^Test hold-out pattern must be a valid regular expression/,
    );
    expect(parseSettingText('groupPattern', 'p(\\d+)_')).toEqual({ value: 'p(\\d+)_', problem: null });
  });
});

describe('reading text', () => {
  it('reads a switch from 1/true/on/yes and 0/false/off/no, in any case', () => {
    const flip: SettingPath = 'augmentation.horizontalFlip';
    for (const word of ['1', 'true', 'on', 'yes', ' Yes ']) expect(parseSettingText(flip, word).value).toBe(true);
    for (const word of ['0', 'false', 'off', 'NO']) expect(parseSettingText(flip, word).value).toBe(false);
    expect(parseSettingText(flip, 'maybe').problem).toBe('Horizontal flip must be 1 or 0.');
    expect(settingText(flip, true)).toBe('1');
  });

  it('takes blank number text for no number', () => {
    expect(parseSettingText('seed', ' ').problem).toBe('Seed must be a number.');
    expect(parseSettingText('epochs', 'two').problem).toBe('Epochs must be a number.');
    expect(parseSettingText('epochs', '2.5').problem).toBe('Epochs must be a whole number.');
    expect(parseSettingText('backend', 'tpu').problem).toBe('Backend must be one of auto, webgpu, webgl, wasm, cpu.');
  });
});

describe('the checks the worker runs', () => {
  it('pass the defaults', () => {
    expect(checkTrainSettings(TRAIN_DEFAULTS)).toBeNull();
    expect(checkAugmentation(DEFAULT_SETTINGS.augmentation)).toBeNull();
  });

  it.each(SETTING_PATHS.filter((path) => settingRow(path).use === 'train'))('refuse a bad %s', (path) => {
    const bad = probes(path).find((probe) => !probe.ok)!;
    expect(checkTrainSettings(withSetting(TRAIN_DEFAULTS, path, bad.value as never))).toMatch(
      new RegExp(`^${settingRow(path).label} must be`),
    );
  });

  it('check the augmentation on its own, for the preview', () => {
    for (const path of AUGMENTATION_PATHS) {
      const bad = probes(path).find((probe) => !probe.ok)!;
      const { augmentation } = withSetting(DEFAULT_SETTINGS, path, bad.value as never);
      expect(checkAugmentation(augmentation)).toMatch(new RegExp(`^${settingRow(path).label} must be`));
    }
    expect(checkAugmentation({ ...NO_AUGMENTATION, zoom: 1 })).toBe('Zoom must be between 0 and 0.9.');
  });
});

describe('augmentation on and off', () => {
  it('is off when every range is 0 and the flip is off (the default is on)', () => {
    expect(isAugmenting(NO_AUGMENTATION)).toBe(false);
    expect(isAugmenting(DEFAULT_SETTINGS.augmentation)).toBe(true);
    expect(isAugmenting({ ...NO_AUGMENTATION, horizontalFlip: true })).toBe(true);
    expect(isAugmenting({ ...NO_AUGMENTATION, shear: 1 })).toBe(true);
  });
});

describe('trainSettingsOf', () => {
  it('keeps every row the worker reads and nothing the page alone uses', () => {
    const train = trainSettingsOf({
      ...DEFAULT_SETTINGS,
      epochs: 7,
      augmentation: { ...DEFAULT_SETTINGS.augmentation, rotation: 5 },
    });
    const trainRows = SETTING_PATHS.filter(
      (path) => settingRow(path).use === 'train' && !path.startsWith('augmentation.'),
    );
    expect(Object.keys(train).sort()).toEqual([...trainRows, 'augmentation'].sort());
    expect(train.epochs).toBe(7);
    expect(train.augmentation.rotation).toBe(5);
  });

  it('gives a setting a saved run lacks its default (the run trained that way), so Resume passes the checks', () => {
    const saved: Partial<Settings> = { ...DEFAULT_SETTINGS, learningRate: 2e-3 };
    delete saved.learningRateSchedule;
    delete saved.weightDecay;
    const train = trainSettingsOf(saved as Settings);
    // Not today's defaults (cosine, weight decay 1): what runs saved before these settings trained with.
    expect(train.learningRateSchedule).toBe('constant');
    expect(train.weightDecay).toBe(0);
    expect(trainSettingsOf(DEFAULT_SETTINGS)).toMatchObject({ learningRateSchedule: 'cosine', weightDecay: 1 });
    expect(train.learningRate).toBe(2e-3);
    expect(checkTrainSettings(train)).toBeNull();
  });

  it('gives a saved run without the acquisition changes none of them, not the acquisition defaults', () => {
    const { contrast, gamma, blur, noise, ...older } = { ...NO_AUGMENTATION, rotation: 5 };
    expect([contrast, gamma, blur, noise]).toEqual([0, 0, 0, 0]);
    const saved = { ...DEFAULT_SETTINGS, augmentation: older } as unknown as Settings;
    const train = trainSettingsOf(saved);
    expect(train.augmentation).toEqual({ ...NO_AUGMENTATION, rotation: 5 });
    expect(checkTrainSettings(train)).toBeNull();
  });
});
