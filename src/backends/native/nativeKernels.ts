/**
 * Our own WebAssembly SIMD kernels (csrc/, compiled ahead of time into training.wasm and
 * training-shared.wasm), run inside tfjs-backend-wasm's memory: the module imports tfjs' heap, so
 * each kernel reads its inputs and writes its outputs in place, by byte offset, with no copy.
 *
 * Why: the passes tfjs makes of a BatchNormalization layer in training (moments, normalisation and
 * a gradient spelled out in some twenty element-wise kernels at full size) and the max-pool gradient
 * were a third of a 150 px step; here they are four passes over the data and one (see
 * batchNormTraining.ts, wasmPoolKernels.ts and wasmNormKernels.ts).
 *
 * One module a worker: `loadNativeKernels` binds it to the WASM backend started in this realm, and
 * `nativeKernelsFor` hands it out only while that backend's memory is still the one it imports.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type * as tf from '@tensorflow/tfjs';
import {
  ChunkQueue,
  InlinePartner,
  MAX_CHUNKS,
  shareOf,
  takeChunks,
  WorkerPartner,
  type Partner,
  type PartnerKernel,
} from './partners';
import { CHUNKS_A_THREAD, helpersToWake } from './threadCount';
import type { TrainingExports } from './trainingExports';

/** How a kernel's shares run besides the calling thread's: helper threads, inline (tests) or none. */
export interface NativeThreading {
  /** Threads in all, the calling one included (helper threads: this less one). */
  threads: number;
  /** Makes a helper worker (the app: helper.worker.ts through Vite); none where absent. */
  makeWorker?: () => Worker;
  /** Tests: this many inline partners (their chunks run on the calling thread, one partner after another). */
  inlinePartners?: number;
}

/** The module's two builds, by the memory they import. */
export type NativeBuild = 'training.wasm' | 'training-shared.wasm';

/** Fetches a build's bytes: `fetch` of a URL Vite emitted in the app, a file read in Node. */
export type NativeBytes = (build: NativeBuild) => Promise<ArrayBuffer | Uint8Array>;

/** A loaded module and the tfjs heap it works in. */
export class NativeKernels {
  /** Chunks of every call cut into more than one (chunkCounts). */
  private chunksSplit = 0;

  constructor(
    private readonly exports: TrainingExports,
    private readonly backend: BackendWasm,
    readonly memory: WebAssembly.Memory,
    private readonly partners: readonly Partner[] = [],
    /** Shared with the helper threads (a SharedArrayBuffer) when there are any. */
    private readonly queue: ChunkQueue = new ChunkQueue(),
  ) {}

  /** Threads a split kernel runs on. */
  get threads(): number {
    return this.partners.length + 1;
  }

  /**
   * Runs `kernel` over items [0, count): in one call on one thread, or cut into chunks (at most one per
   * `minPerShare` items, 4 a thread) that the threads take in turn. `argsOf(start, end, chunk)` gives each
   * chunk's arguments; a chunk's own scratch (its sums, its copy of a gradient) is found by its index, as
   * `sharesFor` counts them. Returns once every chunk is done.
   */
  split(
    kernel: PartnerKernel,
    count: number,
    argsOf: (start: number, end: number, chunk: number) => number[],
    minPerShare = 1,
  ): void {
    const chunks = this.sharesFor(count, minPerShare);
    const run = this.exports[kernel] as (...args: number[]) => void;
    if (chunks === 1) {
      run(...argsOf(0, count, 0));
      return;
    }
    this.queue.fill(
      chunks,
      (chunk) => {
        const [start, end] = shareOf(count, chunks, chunk);
        return argsOf(start, end, chunk);
      },
      kernel,
    );
    const job = this.queue.job;
    this.chunksSplit += chunks;
    // Only as many helpers as there are chunks beyond the caller's first: a woken helper with nothing to take costs a core a wake-up.
    for (const partner of this.partners.slice(0, helpersToWake(chunks, this.partners.length)))
      partner.start(kernel, this.queue);
    // Every chunk nobody else took; then only the ones under way on other threads are waited for.
    try {
      takeChunks(run, this.queue, job);
    } catch (error) {
      // Not before the other threads' chunks are over: they write into buffers the caller frees on the error.
      try {
        this.queue.waitDone(job);
      } catch {
        // The first error is the one to report.
      }
      throw error;
    }
    this.queue.waitDone(job);
  }

  /**
   * `split` for a kernel that takes buffers of whole images, then the number of images, then `rest`: images cut
   * into chunks, each chunk's buffers `[offset, bytes an image]` moved to its first image.
   */
  splitImages(
    kernel: PartnerKernel,
    images: number,
    buffers: readonly (readonly [number, number])[],
    rest: readonly number[],
  ): void {
    this.split(kernel, images, (start, end) => [
      ...buffers.map(([at, bytes]) => at + start * bytes),
      end - start,
      ...rest,
    ]);
  }

  /** Chunks of split calls so far, and how many of them helper threads did (a helper that never woke did none). */
  chunkCounts(): { chunks: number; byHelpers: number } {
    return { chunks: this.chunksSplit, byHelpers: this.queue.chunksByHelpers };
  }

  /** How many chunks `split` cuts `count` items into (1 on one thread). */
  sharesFor(count: number, minPerShare = 1): number {
    if (this.threads === 1) return 1;
    return Math.max(1, Math.min(MAX_CHUNKS, CHUNKS_A_THREAD * this.threads, Math.floor(count / minPerShare)));
  }

  /** Ends the helper threads. */
  close(): void {
    for (const partner of this.partners) partner.close();
  }

  /** Byte offset of a tensor's data in the heap. */
  offset(t: tf.TensorInfo): number {
    const data = this.backend.dataIdMap.get(t.dataId);
    if (data === undefined) throw new Error('A tensor the native kernels were given is not on the WASM backend.');
    return data.memoryOffset;
  }

  /** A live view of `count` floats at a byte offset of the heap (valid until the heap grows). */
  floatsAt(byteOffset: number, count: number): Float32Array {
    return new Float32Array(this.memory.buffer, byteOffset, count);
  }

  /** A live view of `count` float64 numbers at a byte offset of the heap (8-aligned). */
  doublesAt(byteOffset: number, count: number): Float64Array {
    return new Float64Array(this.memory.buffer, byteOffset, count);
  }

  /** A copy of a float32 tensor's numbers. */
  read(t: tf.TensorInfo): Float32Array {
    return this.floatsAt(
      this.offset(t),
      t.shape.reduce((a, b) => a * b, 1),
    ).slice();
  }

  get kernels(): TrainingExports {
    return this.exports;
  }
}

let loaded: NativeKernels | null = null;

/** The heap of a started WASM backend: exported by the single-threaded builds, created in JS by the threaded one. */
export function heapOf(backend: BackendWasm): WebAssembly.Memory | null {
  const module = backend.wasm as unknown as { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  const memory = module.wasmMemory ?? module.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

/**
 * Instantiates the build that fits `backend`'s heap and binds it, with helper threads where the heap
 * is shared and `threading` allows. Returns null when the kernels run, else why not (the WASM training
 * kernels then keep to XNNPACK and plain loops).
 */
export async function loadNativeKernels(
  backend: BackendWasm,
  bytesOf: NativeBytes,
  threading: NativeThreading = { threads: 1 },
): Promise<string | null> {
  const memory = heapOf(backend);
  if (memory === null) return 'the WASM backend does not expose its memory';
  if (loaded?.memory === memory) return null;
  loaded?.close();
  loaded = null;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  try {
    const bytes = await bytesOf(shared ? 'training-shared.wasm' : 'training.wasm');
    const { module, instance } = await WebAssembly.instantiate(bytes as BufferSource, { env: { memory } });
    const exports = instance.exports as unknown as TrainingExports;
    const partners: Partner[] = [];
    const helpers = Math.max(0, threading.threads - 1);
    let queue = new ChunkQueue();
    if (shared && threading.makeWorker && helpers > 0) {
      const sharedQueue = new SharedArrayBuffer(ChunkQueue.BYTES);
      const started = await Promise.all(
        Array.from({ length: helpers }, () => WorkerPartner.start(threading.makeWorker!, module, memory, sharedQueue)),
      );
      for (const partner of started) if (partner) partners.push(partner);
      queue = new ChunkQueue(sharedQueue);
    }
    const inline = threading.inlinePartners ?? 0;
    const threads = partners.length + inline + 1;
    for (let i = 0; i < inline; i++)
      partners.push(new InlinePartner(exports as unknown as Record<string, (...args: number[]) => void>, threads));
    loaded = new NativeKernels(exports, backend, memory, partners, queue);
    return null;
  } catch (error) {
    return `our WebAssembly kernels did not load (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** The loaded kernels when they work in `backend`'s heap, else null. */
export function nativeKernelsFor(backend: BackendWasm): NativeKernels | null {
  if (loaded === null) return null;
  return heapOf(backend) === loaded.memory ? loaded : null;
}

/** Forgets the module (tests: the next load instantiates again). */
export function unloadNativeKernels(): void {
  loaded?.close();
  loaded = null;
}
