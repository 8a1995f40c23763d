#!/usr/bin/env node
// `npm test`: format check, type-check, lint, unit tests, production build, e2e tests against the build.
// Ends with one line, `N passed, M failed`, summed over all suites (CI reads only that line).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

mkdirSync('.cache', { recursive: true });
const totals = { passed: 0, failed: 0 };
const lines = [];

function run(name, command, args, env = {}) {
  console.log(`\n=== ${name}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status === 0;
}

function count(name, passed, failed) {
  totals.passed += passed;
  totals.failed += failed;
  lines.push(`${name}: ${passed} passed, ${failed} failed`);
}

function readJson(path) {
  try {
    return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null;
  } catch {
    return null;
  }
}

const ok = (name, command, args) => {
  const passed = run(name, command, args);
  count(name, passed ? 1 : 0, passed ? 0 : 1);
  return passed;
};

// Cheapest first: the formatter (Prettier, .prettierrc.json) reads every file in seconds.
ok('format', 'npx', ['prettier', '--check', '.']);
ok('type-check', 'npx', ['tsc', '--noEmit', '-p', '.']);
// Each runtime on its own: the page without WebWorker or Node types, the workers without the DOM.
ok('type-check (page)', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.page.json']);
ok('type-check (workers)', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.worker.json']);
ok('lint', 'npx', ['eslint', '--max-warnings=0', '.']);

rmSync('.cache/vitest.json', { force: true });
const unitOk = run('unit', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=.cache/vitest.json']);
const unit = readJson('.cache/vitest.json');
if (unit) count('unit', unit.numPassedTests, unit.numFailedTests + (unitOk ? 0 : unit.numFailedTests === 0 ? 1 : 0));
else count('unit', 0, 1);

const built = ok('build', 'npx', ['vite', 'build']);
if (built) {
  rmSync('.cache/playwright.json', { force: true });
  const e2eOk = run('e2e', 'npx', ['playwright', 'test']);
  const e2e = readJson('.cache/playwright.json');
  if (e2e?.stats) {
    const failed = e2e.stats.unexpected + (e2e.stats.flaky ?? 0);
    count('e2e', e2e.stats.expected, failed + (e2eOk || failed > 0 ? 0 : 1));
  } else count('e2e', 0, 1);
} else {
  count('e2e (not run: build failed)', 0, 1);
}

console.log('\n' + lines.join('\n'));
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed === 0 ? 0 : 1);
