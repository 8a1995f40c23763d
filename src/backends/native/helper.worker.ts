/**
 * A helper thread for our native kernels (partners.ts): instantiates the kernels module on the training
 * worker's shared WASM heap, says 'ready', then for each job it is woken for takes that job's chunks from the
 * shared queue until none is left, forever, blocked in Atomics.wait in between (a worker may block; it is
 * terminated with the training worker's backend).
 */
import { ChunkQueue, PARTNER_KERNELS, POSTED, takeChunks } from './partners';

/** How long a helper sleeps before it looks at its control block again, woken or not. */
const IDLE_WAIT_MS = 250;

interface Start {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  block: SharedArrayBuffer;
  queue: SharedArrayBuffer;
}

self.onmessage = (event: MessageEvent<Start>) => {
  const { module, memory, block } = event.data;
  const queue = new ChunkQueue(event.data.queue);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as Record<string, (...args: number[]) => void>;
  const control = new Int32Array(block, 0, 1);
  self.postMessage('ready');
  let seen = Atomics.load(control, POSTED);
  for (;;) {
    // Not forever: a wait that times out looks again (in Chromium 156 a helper sometimes slept through its first
    // call; the queue makes that harmless, see partners.ts). Seldom: an idle page should not wake a core often.
    Atomics.wait(control, POSTED, seen, IDLE_WAIT_MS);
    const job = Atomics.load(control, POSTED);
    if (job < 0) return;
    if (job === seen) continue;
    seen = job;
    // The kernel of the job under way; takeChunks takes nothing if that is no longer `job`.
    const kernel = PARTNER_KERNELS[queue.kernel];
    try {
      takeChunks(exports[kernel], queue, job, true);
    } catch {
      // Recorded in the queue for the caller, which throws; this thread goes on waiting.
    }
  }
};
