import { describe, expect, it } from 'vitest';
import { fuzzTarget } from './fuzz/run';
import { FUZZ_TARGETS } from './fuzz/targets';

/** The short seeded run of `npm run fuzz` (which runs 10,000 cases a parser): the same cases every time. */
const CASES = 500;

describe('fuzzing the page’s parsers (short run)', () => {
  for (const target of FUZZ_TARGETS) {
    it(`${target.name}: ${CASES} mutated cases, each answered in time, refusals in words`, async () => {
      const report = await fuzzTarget(target, CASES, 1);
      expect(report.cases).toBe(CASES);
      expect(report.failures.map((f) => `case ${f.case} (${f.description}): ${f.problem}`)).toEqual([]);
    });
  }
});
