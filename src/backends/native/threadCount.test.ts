import { describe, expect, it } from 'vitest';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { NativeKernels } from './nativeKernels';
import { ChunkQueue, CHUNK_BITS, MAX_CHUNKS, takeChunks, type Partner, type PartnerKernel } from './partners';
import { CHUNKS_A_THREAD, helpersToWake, kernelThreadsFor, MAX_KERNEL_THREADS } from './threadCount';

describe('threads for our WebAssembly kernels', () => {
  it('one a core the browser reports, the 16-core machine included; 1 where it reports nothing useful', () => {
    expect([2, 4, 8, 16, 24].map(kernelThreadsFor)).toEqual([2, 4, 8, 16, 24]);
    expect([undefined, 0, 1, Number.NaN, -4].map(kernelThreadsFor)).toEqual([1, 1, 1, 1, 1]);
    expect(kernelThreadsFor(12.7)).toBe(12);
    expect(kernelThreadsFor(256)).toBe(MAX_KERNEL_THREADS);
  });

  it('a call wakes only the helpers its chunks can use', () => {
    expect(helpersToWake(1, 15)).toBe(0);
    expect(helpersToWake(4, 15)).toBe(3);
    expect(helpersToWake(64, 15)).toBe(15);
    expect(helpersToWake(5, 0)).toBe(0);
  });

  it('the chunk queue holds 4 chunks for each of the most threads, and hands each out once', () => {
    expect(MAX_CHUNKS).toBe(CHUNKS_A_THREAD * MAX_KERNEL_THREADS);
    // All ones in the chunk bits marks a job being filled: it must be more than any chunk count.
    expect(MAX_CHUNKS).toBeLessThan(2 ** CHUNK_BITS - 1);
    const queue = new ChunkQueue(new SharedArrayBuffer(ChunkQueue.BYTES));
    for (let call = 0; call < 3; call++) {
      queue.fill(MAX_CHUNKS, (chunk) => [chunk]);
      const seen: number[] = [];
      takeChunks((chunk) => seen.push(chunk), queue);
      expect(seen).toEqual(Array.from({ length: MAX_CHUNKS }, (_, i) => i));
      queue.waitDone(queue.job, 0);
    }
  });
});

describe('NativeKernels.split on 16 threads', () => {
  /** A helper that only counts its wake-ups (the caller then takes every chunk). */
  class CountingPartner implements Partner {
    woken = 0;
    start(_kernel: PartnerKernel, _queue: ChunkQueue): void {
      this.woken++;
    }
    close(): void {}
  }

  function sixteenThreads() {
    const helpers = Array.from({ length: 15 }, () => new CountingPartner());
    const items: number[] = [];
    const exports = { relu: (_x: number, _y: number, count: number) => items.push(count) };
    const memory = new WebAssembly.Memory({ initial: 1 });
    const native = new NativeKernels(exports as never, {} as BackendWasm, memory, helpers);
    return { native, helpers, items };
  }

  it('cuts a large call into 4 chunks a thread and wakes all 15 helpers', () => {
    const { native, helpers, items } = sixteenThreads();
    native.split('relu', 1 << 22, (start, end) => [0, 0, end - start], 1 << 16);
    expect(items).toHaveLength(64);
    expect(items.reduce((a, b) => a + b, 0)).toBe(1 << 22);
    expect(helpers.map((h) => h.woken)).toEqual(new Array(15).fill(1));
  });

  it('cuts a small call by its minimum share and wakes only the helpers it can use', () => {
    const { native, helpers, items } = sixteenThreads();
    native.split('relu', 3 << 16, (start, end) => [0, 0, end - start], 1 << 16);
    expect(items).toEqual([1 << 16, 1 << 16, 1 << 16]);
    expect(helpers.filter((h) => h.woken === 1)).toHaveLength(2);
    native.split('relu', 1000, (start, end) => [0, 0, end - start], 1 << 16);
    expect(items.slice(3)).toEqual([1000]);
    expect(helpers.filter((h) => h.woken > 0)).toHaveLength(2);
  });
});
