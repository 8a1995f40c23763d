/**
 * What every benchmark that drives the real app needs: the production build, served by `vite preview`
 * on a free port (other benchmarks and test runs may hold fixed ones), and Debian's Chromium launched
 * headless with the project's flags. `close` ends both.
 */
import { chromium, type Browser } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

export interface ServedApp {
  baseUrl: string;
  browser: Browser;
  close(): Promise<void>;
}

/** A port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForServer(url: string, exited: () => boolean): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (exited()) throw new Error('vite preview exited before it served the app');
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not up yet.
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`vite preview did not answer at ${url}`);
}

/** Builds the app, serves it and opens a browser; `browserArgs` are added to the usual flags. */
export async function serveBuiltApp(browserArgs: string[] = []): Promise<ServedApp> {
  if (spawnSync('npx', ['vite', 'build', '--logLevel', 'error'], { stdio: 'inherit' }).status !== 0) process.exit(1);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // Its own process group, so that killing it ends vite too, not only npx.
  const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { stdio: 'ignore', detached: true });
  let serverExited = false;
  server.on('exit', () => (serverExited = true));
  const stopServer = () => {
    try {
      if (server.pid && !serverExited) process.kill(-server.pid);
    } catch {
      // Already gone.
    }
  };
  let browser: Browser;
  try {
    await waitForServer(baseUrl, () => serverExited);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage', ...browserArgs],
    });
  } catch (error) {
    stopServer();
    throw error;
  }
  return {
    baseUrl,
    browser,
    close: async () => {
      await browser.close();
      stopServer();
    },
  };
}
