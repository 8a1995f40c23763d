import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, checkSetting, settingsFromQuery, settingsToQuery } from './settings';

describe('settings from the URL', () => {
  it('reads every key', () => {
    const { settings, problems } = settingsFromQuery('?size=64&epochs=2&batch=16&lr=0.0005&backend=cpu&seed=7');
    expect(problems).toEqual([]);
    expect(settings).toEqual({ imageSize: 64, epochs: 2, batchSize: 16, learningRate: 0.0005, backend: 'cpu', seed: 7 });
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
