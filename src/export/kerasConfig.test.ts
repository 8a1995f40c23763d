import { describe, expect, it } from 'vitest';
import { PyFloat, pyFloatRepr, pyJson } from './kerasConfig';

describe('pyJson', () => {
  it("writes JSON as Python's json.dumps does", () => {
    expect(pyJson({ a: new PyFloat(1e-7), b: [1, 0.5, new PyFloat(0)], c: 'é"\n\x7f', d: null, e: true, f: {} })).toBe(
      '{"a": 1e-07, "b": [1, 0.5, 0.0], "c": "\\u00e9\\"\\n\\u007f", "d": null, "e": true, "f": {}}',
    );
    const cases: [number, string][] = [
      [0.001, '0.001'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [1.5e-12, '1.5e-12'],
      [1, '1.0'],
      [-2.5, '-2.5'],
      [123456789.125, '123456789.125'],
      [1e16, '1e+16'],
      [1.2345e20, '1.2345e+20'],
      [9999999999999998, '9999999999999998.0'],
      [0.1 + 0.2, '0.30000000000000004'],
    ];
    expect(cases.map(([x]) => pyFloatRepr(x))).toEqual(cases.map(([, s]) => s));
  });
});
