import { describe, expect, it } from 'vitest';
// checkSettingValue is the form's check (ui/training/urlSettings.ts checkSetting is it, see settings.test.ts there).
import { DEFAULT_SETTINGS, SETTING_PATHS, checkSettingValue, settingRow, withSetting } from '../core/settings';
import { probes } from '../core/settings.testutil';
import type { ImageSet, Splits, TrainSettings } from '../core/types';
import { checkSettings } from './checks';

const TRAIN_DEFAULTS: TrainSettings = (({ validationPercent: _v, testPercent: _t, ...train }) => train)(
  DEFAULT_SETTINGS,
);

/** Splits of `count` images of `size` px: only their size and count matter to the checks. */
function splits(size: number, count = 4): Splits {
  const set = (n: number): ImageSet => ({ size, count: n, pixels: new Uint8Array(0), labels: new Uint8Array(n) });
  return { classNames: ['NORMAL', 'PNEUMONIA'], train: set(count), validation: set(2), test: null };
}

/** The worker's answer: null when it would train, else its message. */
function workerProblem(
  settings: TrainSettings,
  data = splits(typeof settings.imageSize === 'number' ? settings.imageSize : 150),
): string | null {
  try {
    checkSettings(settings, data);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('the worker refuses exactly what the form refuses', () => {
  const trainPaths = SETTING_PATHS.filter((path) => settingRow(path).use === 'train');

  it.each(trainPaths)('%s, at and past each limit', (path) => {
    for (const { value, ok } of probes(path)) {
      const form = checkSettingValue(path, value);
      expect(form === null, `${path} = ${String(value)}`).toBe(ok);
      expect(workerProblem(withSetting(TRAIN_DEFAULTS, path, value as never)), `${path} = ${String(value)}`).toBe(form);
    }
  });

  it('takes the defaults', () => {
    expect(workerProblem(TRAIN_DEFAULTS)).toBeNull();
  });
});

describe('what only the data can tell', () => {
  it('the image size must be the one the images were decoded at', () => {
    expect(workerProblem({ ...TRAIN_DEFAULTS, imageSize: 64 }, splits(32))).toMatch(
      /prepared at 32 px but the settings ask for 64 px/,
    );
  });

  it('the train split must not be empty', () => {
    expect(workerProblem(TRAIN_DEFAULTS, splits(150, 0))).toMatch(/train split has no images/);
  });

  it('the augmentation settings must be there', () => {
    const missing = { ...TRAIN_DEFAULTS, augmentation: undefined } as unknown as TrainSettings;
    expect(workerProblem(missing)).toBe('The augmentation settings are missing.');
  });
});
