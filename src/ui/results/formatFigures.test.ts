import { describe, expect, it } from 'vitest';
import { fmt, fmtInterval, fmtSliderThreshold, fmtThreshold } from './formatFigures';

describe('how the Results write numbers', () => {
  it('figures with 4 decimals, intervals with 3, n/a where undefined', () => {
    expect(fmt(0.95)).toBe('0.9500');
    expect(fmt(NaN)).toBe('n/a');
    expect(fmtInterval([0.8851, 0.9364])).toBe(' (0.885–0.936)');
    expect(fmtInterval([NaN, 0.9])).toBe('');
    expect(fmtInterval(null)).toBe('');
  });

  it('a chosen threshold with the digits that tell it apart', () => {
    expect(fmtThreshold(0.5)).toBe('0.5');
    expect(fmtThreshold(0.37104)).toBe('0.371');
    expect(fmtThreshold(0.0041987)).toBe('0.0042');
  });

  it("the slider's threshold: a step with two decimals, a chosen one between steps as the reported sentence has it", () => {
    expect(fmtSliderThreshold(0.9)).toBe('0.90');
    expect(fmtSliderThreshold(0.93)).toBe('0.93');
    // 0.01 steps summed in floating point are not exact multiples.
    expect(fmtSliderThreshold(0.82 + 0.01 + 0.01)).toBe('0.84');
    expect(fmtSliderThreshold(0.92498)).toBe('0.925');
    expect(fmtSliderThreshold(0.92498)).toBe(fmtThreshold(0.92498));
    expect(fmtSliderThreshold(0.0041987)).toBe('0.0042');
  });
});
