/**
 * A helper thread for our native kernels (partners.ts): instantiates the kernels module on the training
 * worker's shared WASM heap, says 'ready', then for each call it is woken for takes chunks from the shared
 * queue until none is left, forever, blocked in Atomics.wait in between (a worker may block; it is
 * terminated with the training worker's backend).
 */
import { ChunkQueue, FAILED, FINISHED, KERNEL, PARTNER_KERNELS, POSTED, takeChunks } from './partners';

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
  const control = new Int32Array(block, 0, 4);
  self.postMessage('ready');
  let seen = Atomics.load(control, POSTED);
  for (;;) {
    Atomics.wait(control, POSTED, seen);
    const job = Atomics.load(control, POSTED);
    if (job < 0) return;
    if (job === seen) continue;
    const kernel = PARTNER_KERNELS[Atomics.load(control, KERNEL)];
    try {
      takeChunks(exports[kernel], queue);
    } catch {
      Atomics.store(control, FAILED, job); // the caller throws; this thread goes on waiting
    }
    seen = job;
    Atomics.store(control, FINISHED, job);
    Atomics.notify(control, FINISHED);
  }
};
