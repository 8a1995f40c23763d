#!/usr/bin/env node
// `npm test`: format check, type-check, lint, unit tests, production build, e2e tests against the build.
// Ends with one line, `N passed, M failed`, summed over all suites (CI reads only that line).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';

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

/** Runs single-threaded checks side by side, a core each; prints each one's output whole, in the given order. */
async function checks(steps, lanes) {
  const results = new Array(steps.length);
  let next = 0;
  const lane = async () => {
    while (next < steps.length) {
      const index = next++;
      const [, command, args] = steps[index];
      results[index] = await new Promise((done) => {
        const child = spawn(command, args, { env: process.env });
        let output = '';
        child.stdout.on('data', (chunk) => (output += chunk));
        child.stderr.on('data', (chunk) => (output += chunk));
        child.on('close', (status) => done({ passed: status === 0, output }));
        child.on('error', (error) => done({ passed: false, output: String(error) }));
      });
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  steps.forEach(([name, command, args], index) => {
    console.log(`\n=== ${name}: ${command} ${args.join(' ')}`);
    process.stdout.write(results[index].output);
    count(name, results[index].passed ? 1 : 0, results[index].passed ? 0 : 1);
  });
}

// The static checks, each a single-threaded process: on a 2-core machine two at a time halve their wall time.
await checks(
  [
    // The formatter (Prettier, .prettierrc.json).
    ['format', 'npx', ['prettier', '--check', '.']],
    ['type-check', 'npx', ['tsc', '--noEmit', '-p', '.']],
    // Each runtime on its own: the page without WebWorker or Node types, the workers without the DOM.
    ['type-check (page)', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.page.json']],
    ['type-check (workers)', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.worker.json']],
    ['lint', 'npx', ['eslint', '--max-warnings=0', '.']],
  ],
  Math.max(1, Math.min(4, availableParallelism())),
);

rmSync('.cache/vitest.json', { force: true });
const unitOk = run('unit', 'npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  '--outputFile.json=.cache/vitest.json',
]);
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
