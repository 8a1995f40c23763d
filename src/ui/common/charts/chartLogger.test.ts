import { afterEach, describe, expect, it, vi } from 'vitest';
import { chartLogger } from './chartLogger';

describe('chartLogger', () => {
  afterEach(() => vi.restoreAllMocks());

  it('drops the warning for a scale over no data, and passes every other warning and error on', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const log = chartLogger();
    expect(log.warn('Infinite extent for field "x": [Infinity, -Infinity]')).toBe(log);
    expect(warn).not.toHaveBeenCalled();
    log.warn('Unrecognized scale name: "colour"');
    expect(warn).toHaveBeenCalledWith('WARN', 'Unrecognized scale name: "colour"');
    log.error('Infinite extent for field "x": [Infinity, -Infinity]');
    expect(error).toHaveBeenCalledTimes(1);
  });

  it('keeps vega’s level: nothing below warnings, and a level set later still applies', () => {
    const info = vi.spyOn(console, 'log').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const log = chartLogger();
    log.info('dataflow pulse');
    expect(info).not.toHaveBeenCalled();
    log.level(0);
    log.warn('Unrecognized scale name: "colour"');
    expect(warn).not.toHaveBeenCalled();
  });
});
