/**
 * A helper thread for our native kernels (partners.ts): instantiates the kernels module on the training
 * worker's shared WASM heap, says 'ready', then runs the shares it is given, forever, blocked in
 * Atomics.wait in between (a worker may block; it is terminated with the training worker's backend).
 */
import { FAILED, FINISHED, KERNEL, PARTNER_KERNELS, POSTED } from './partners';

interface Start {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  block: SharedArrayBuffer;
}

self.onmessage = (event: MessageEvent<Start>) => {
  const { module, memory, block } = event.data;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as Record<string, (...args: number[]) => void>;
  const control = new Int32Array(block, 0, 4);
  const args = new Float64Array(block, 16, 16);
  self.postMessage('ready');
  let seen = Atomics.load(control, POSTED);
  for (;;) {
    Atomics.wait(control, POSTED, seen);
    const job = Atomics.load(control, POSTED);
    if (job < 0) return;
    if (job === seen) continue;
    const kernel = PARTNER_KERNELS[Atomics.load(control, KERNEL)];
    try {
      exports[kernel](...Array.from(args));
    } catch {
      Atomics.store(control, FAILED, job); // the caller throws; this thread goes on waiting
    }
    seen = job;
    Atomics.store(control, FINISHED, job);
    Atomics.notify(control, FINISHED);
  }
};
