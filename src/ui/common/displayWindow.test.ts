import { describe, expect, it } from 'vitest';
import { FULL_WINDOW, windowTable } from './displayWindow';

describe('windowTable', () => {
  it('is the identity for the full window', () => {
    expect([...windowTable(FULL_WINDOW)]).toEqual(Array.from({ length: 256 }, (_, v) => v));
  });

  it('spreads a narrow window over black to white and clips the rest', () => {
    const table = windowTable({ center: 64, width: 64 });
    expect(table[0]).toBe(0);
    expect(table[31]).toBe(0);
    expect(table[33]).toBe(4);
    expect(table[64]).toBe(128);
    expect(table[95]).toBe(252);
    expect(table[96]).toBe(255);
    expect(table[200]).toBe(255);
    for (let v = 1; v < 256; v++) expect(table[v]).toBeGreaterThanOrEqual(table[v - 1]);
  });
});
