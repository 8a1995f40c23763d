/**
 * Python runs for the PyTorch tests without paying for `import torch` each time: test/python_fork_server.py imports
 * it once and forks a child per run, which takes the caller's folder, environment, arguments and standard streams.
 * A run is still one synchronous process from here (a small client that passes its streams to the server), so its
 * output, exit status and timeout read as a direct `python3` run's would. Without the server, runs start Python
 * directly.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SERVER_SCRIPT = resolve(import.meta.dirname, '../../test/python_fork_server.py');

/** The client: connects, hands over its standard streams and the request, and exits with the run's status. */
const CLIENT = [
  'import json, os, socket, struct, sys',
  'conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
  'conn.connect(sys.argv[1])',
  'body = json.dumps({"cwd": os.getcwd(), "env": dict(os.environ), "argv": sys.argv[2:]}).encode()',
  'socket.send_fds(conn, [struct.pack("<I", len(body))], [0, 1, 2])',
  'conn.sendall(body)',
  'status = b""',
  'while chunk := conn.recv(16): status += chunk',
  'if not status: print("the forked Python run ended without an exit status", file=sys.stderr)',
  'sys.exit(int(status) if status else 1)',
].join('\n');

interface Server {
  process: ChildProcess;
  folder: string;
  socket: string;
}

let server: Server | null = null;

/** Starts the server with `env` (read once, at torch's import: OMP_NUM_THREADS); resolves once it listens. */
export async function startPythonForkServer(python: string, env: NodeJS.ProcessEnv): Promise<void> {
  if (server) return;
  const folder = mkdtempSync(join(tmpdir(), 'python-fork-'));
  const socket = join(folder, 'socket');
  const child = spawn(python, [SERVER_SCRIPT, socket], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise<boolean>((done) => {
    const timer = setTimeout(() => done(false), 60_000);
    let said = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      if (!said.includes('\n')) return;
      clearTimeout(timer);
      done(said === 'ready\n');
    });
    child.once('exit', () => {
      clearTimeout(timer);
      done(false);
    });
  });
  if (!ready) {
    console.warn(`The Python fork server did not start (${python} ${SERVER_SCRIPT}): each run starts Python itself.`);
    child.kill();
    rmSync(folder, { recursive: true, force: true });
    return;
  }
  // It prints nothing more; neither it nor its pipe keeps the test runner waiting.
  child.stdout!.destroy();
  child.unref();
  server = { process: child, folder, socket };
}

export function stopPythonForkServer(): void {
  if (!server) return;
  server.process.kill();
  rmSync(server.folder, { recursive: true, force: true });
  server = null;
}

/** `python args` in `cwd`, through the server when it runs. */
export function spawnPythonSync(
  python: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeout?: number },
): SpawnSyncReturns<string> {
  const argv = server ? ['-I', '-S', '-c', CLIENT, server.socket, ...args] : args;
  return spawnSync(python, argv, { ...options, encoding: 'utf8', maxBuffer: 64 << 20 });
}
