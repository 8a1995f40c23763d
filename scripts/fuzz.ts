/**
 * `npm run fuzz [-- --cases 10000 --seed 1 --only png]`: mutated seeds (bit flips, truncations, length fields set
 * to 0, to their maximum, and to lies) through the page's own parsers, in Node. Prints cases and failures per
 * parser, and exits 1 on any failure. See docs/hostile-files.md.
 */
import { fuzzTarget } from './fuzz/run';
import { FUZZ_TARGETS } from './fuzz/targets';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const cases = Number(option('cases', '10000'));
const seed = Number(option('seed', '1'));
const only = option('only', '');
const targets = FUZZ_TARGETS.filter((t) => !only || t.name.includes(only));
if (!Number.isInteger(cases) || cases < 1 || !Number.isInteger(seed) || targets.length === 0) {
  console.error(
    `usage: npm run fuzz -- [--cases N] [--seed S] [--only NAME]; parsers: ${FUZZ_TARGETS.map((t) => t.name).join(', ')}`,
  );
  process.exit(2);
}

// The page's code logs nothing on purpose for refusals; zip.js and tfjs may warn, which is not a finding.
let failed = 0;
console.log(`fuzz: ${cases} cases per parser, seed ${seed}`);
console.log(
  [
    'parser'.padEnd(22),
    'cases'.padStart(7),
    'accepted'.padStart(9),
    'refused'.padStart(8),
    'failures'.padStart(9),
    'slowest'.padStart(10),
  ].join(' '),
);
for (const target of targets) {
  const started = performance.now();
  const r = await fuzzTarget(target, cases, seed);
  failed += r.failures.length;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    [
      r.name.padEnd(22),
      String(r.cases).padStart(7),
      String(r.accepted).padStart(9),
      String(r.refused).padStart(8),
      String(r.failures.length).padStart(9),
      `${Math.round(r.slowestMs)} ms`.padStart(10),
    ].join(' ') + `  (${seconds} s)`,
  );
  for (const f of r.failures.slice(0, 10)) console.log(`  case ${f.case} (${f.description}): ${f.problem}`);
}
console.log(failed === 0 ? 'fuzz: 0 failures' : `fuzz: ${failed} failures`);
process.exit(failed === 0 ? 0 : 1);
