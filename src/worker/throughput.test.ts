import { describe, expect, it } from 'vitest';
import { Throughput } from './throughput';

describe('Throughput', () => {
  it('reports the first batch alone, then leaves its warm-up out', () => {
    const meter = new Throughput(20);
    expect(meter.record(32, 1000)).toBe(32); // shader compilation: slow
    expect(meter.record(32, 100)).toBe(320);
    expect(meter.record(16, 100)).toBe(240); // (32 + 16) images in 0.2 s
  });

  it('averages over the last `window` batches only', () => {
    const meter = new Throughput(2);
    meter.record(10, 10);
    meter.record(10, 1000);
    meter.record(10, 100);
    expect(meter.record(10, 100)).toBe(100);
  });

  it('never divides by zero', () => {
    const meter = new Throughput();
    expect(Number.isFinite(meter.record(8, 0))).toBe(true);
  });
});
