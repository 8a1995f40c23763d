import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleBrowserMemory } from './processMemory';

// A stand-in browser: a Node process with the marker on its command line and a child of its own (a "renderer"). The
// script spells the child's switch in two parts: the marked process must not carry `--type=` itself.
const marker = `--process-memory-test-marker=${process.pid}`;
const script = `
  const { spawn } = require('node:child_process');
  const args = ['-e', 'setInterval(() => {}, 1000)', '--', '--ty' + 'pe=renderer'];
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  const held = Buffer.alloc(32 * 1024 * 1024, 1);
  process.stdout.write('ready');
  process.on('SIGTERM', () => { child.kill(); process.exit(held[0] - 1); });
  setInterval(() => {}, 1000);
`;
let browser: ReturnType<typeof spawn>;

beforeAll(async () => {
  if (process.platform !== 'linux') return;
  browser = spawn(process.execPath, ['-e', script, '--', marker], { stdio: ['ignore', 'pipe', 'ignore'] });
  await once(browser.stdout!, 'data');
  // The child's own command line is set once it has started.
  for (let i = 0; i < 50 && !sampleBrowserMemory(marker).countByType.renderer; i++) {
    await new Promise((done) => setTimeout(done, 100));
  }
});

afterAll(() => {
  browser?.kill('SIGTERM');
});

// /proc is Linux's.
describe.skipIf(process.platform !== 'linux')('sampleBrowserMemory', () => {
  it('sums the marked process and its children, split by type and by backing', () => {
    const sample = sampleBrowserMemory(marker);
    expect(sample.countByType).toEqual({ browser: 1, renderer: 1 });
    expect(sample.total).toBe(sample.byType.browser + sample.byType.renderer);
    expect(sample.renderer).toBe(sample.byType.renderer);
    // The marked process holds 32 MiB it wrote to: anonymous memory.
    expect(sample.anonymousByType.browser).toBeGreaterThan(32 * 1024 ** 2);
    expect(sample.anonymous).toBe(sample.anonymousByType.browser + sample.anonymousByType.renderer);
    expect(sample.fileBacked).toBeGreaterThan(0);
    // VmRSS is RssAnon + RssFile + RssShmem, each read in KiB; the processes may move a page between two reads.
    const parts = sample.anonymous + sample.fileBacked + sample.sharedMemory;
    expect(Math.abs(parts - sample.total)).toBeLessThan(4 * 1024 ** 2);
    expect(sample.proportional).toBeGreaterThan(0);
    expect(sample.proportional).toBeLessThanOrEqual(sample.total + 4 * 1024 ** 2);
  });

  it('finds nothing for a marker no process carries', () => {
    const sample = sampleBrowserMemory('--no-process-has-this-marker');
    expect(sample.total).toBe(0);
    expect(sample.anonymous).toBe(0);
    expect(sample.anonymousByType).toEqual({});
  });
});
