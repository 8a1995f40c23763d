/**
 * The PyTorch tests' Python runs through the fork server (pythonForkServer.testutil.ts) read as direct `python3`
 * runs: the same output, streams, exit status, folder, environment and arguments, random numbers seeded afresh, and
 * a run that outlives its timeout ends with its client.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hasTorch, PYTHON } from './pytorchFixture.testutil';
import { spawnPythonSync, startPythonForkServer, stopPythonForkServer } from './pythonForkServer.testutil';

const ENV = { ...process.env, OMP_NUM_THREADS: '1', FORK_TEST: 'from the caller' };

describe.skipIf(!hasTorch)('Python runs through the fork server', () => {
  let folder = '';
  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'fork-server-test-'));
    await startPythonForkServer(PYTHON, ENV);
  });
  afterAll(() => {
    stopPythonForkServer();
    rmSync(folder, { recursive: true, force: true });
  });

  const both = (args: string[], timeout?: number) => {
    const options = { cwd: folder, env: ENV, timeout };
    const direct = spawnSync(PYTHON, args, { ...options, encoding: 'utf8' });
    return { forked: spawnPythonSync(PYTHON, args, options), direct };
  };

  it('gives what a direct run gives: output, errors, exit status, folder, environment, arguments', () => {
    const script = [
      'import os, sys',
      'print(os.getcwd(), os.environ["FORK_TEST"], sys.argv, sys.path[0] == "")',
      'print("to stderr", file=sys.stderr)',
      'sys.exit(3)',
    ].join('\n');
    const { forked, direct } = both(['-c', script, 'one', 'two words']);
    expect(forked.status).toBe(3);
    expect(forked.stdout).toBe(direct.stdout);
    expect(forked.stderr).toBe(direct.stderr);
    expect(forked.stdout).toContain(`${folder} from the caller ['-c', 'one', 'two words'] True`);
  });

  it('seeds random numbers afresh each run, as a new interpreter does, not from the server', () => {
    const draw = 'import random, numpy, torch; print(random.random(), numpy.random.rand(), torch.rand(1).item())';
    const runs = [0, 1].map(() => spawnPythonSync(PYTHON, ['-c', draw], { cwd: folder, env: ENV }).stdout.split(' '));
    for (let k = 0; k < 3; k++) expect(runs[0][k]).not.toBe(runs[1][k]);
  });

  it('ends a run with an exception as Python does, with its traceback', () => {
    const { forked, direct } = both(['-c', 'raise ValueError("no such image")']);
    expect(forked.status).toBe(1);
    expect(direct.status).toBe(1);
    expect(forked.stderr).toContain('ValueError: no such image');
  });

  it('ends a run that outlives its timeout, as a direct run is killed', async () => {
    const pidFile = join(folder, 'sleeper.pid');
    const script = 'import os, sys, time; open(sys.argv[1], "w").write(str(os.getpid())); time.sleep(60)';
    const run = spawnPythonSync(PYTHON, ['-c', script, pidFile], { cwd: folder, env: ENV, timeout: 1500 });
    expect(run.status).toBeNull();
    expect(run.signal).toBe('SIGTERM');
    // The forked child (its command line is the server's) notices that its client is gone and ends itself.
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await vi.waitFor(() => expect(alive()).toBe(false), { timeout: 5_000, interval: 100 });
  });
});
