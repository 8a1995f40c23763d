/**
 * Running one native kernel on several threads. The work is cut into chunks (by images or pixels, so every
 * chunk writes its own part of the output, or its own copy to be summed), put in a shared queue, and every
 * thread, the calling one too, takes the next chunk until none is left: a thread slowed by other work (the
 * pool threads of tfjs' own kernels spin on the cores for a while after each of them) takes fewer, instead
 * of every thread waiting for the slowest share. In the page, a partner is a helper worker (helper.worker.ts)
 * that runs the same module on the same shared heap and waits on a control block with Atomics; in Node
 * (tests) an inline partner takes its fair part of the chunks on the calling thread, so the chunking is
 * tested without threads.
 */

/** The kernels a partner can run (exports of training.c); the index is what crosses the control block. */
export const PARTNER_KERNELS = ['conv2d_filter_grad', 'max_pool_2x2_grad', 'channel_affine', 'channel_affine2', 'relu_grad', 'channel_sums', 'channel_grad_sums', 'conv2d_forward', 'conv2d_input_grad', 'max_pool_2x2', 'channel_bias', 'relu', 'relu_grad_sums'] as const;
export type PartnerKernel = (typeof PARTNER_KERNELS)[number];

type Exports = Record<string, (...args: number[]) => void>;

export interface Partner {
  /** Starts taking `kernel`'s chunks from `queue`; returns at once for a thread, after its part for an inline partner. */
  start(kernel: PartnerKernel, queue: ChunkQueue): void;
  /** Returns once the partner has found the queue empty and finished its last chunk of the call. */
  finish(): void;
  /** Ends the thread, if any. */
  close(): void;
}

/** Takes its fair part of the chunks (as many as a thread as fast as the caller would) on the calling thread, at start. */
export class InlinePartner implements Partner {
  constructor(
    private readonly exports: Exports,
    private readonly threads: number,
  ) {}

  start(kernel: PartnerKernel, queue: ChunkQueue): void {
    for (let taken = 0; taken < Math.ceil(queue.chunks / this.threads); taken++) {
      const chunk = queue.take();
      if (chunk < 0) return;
      this.exports[kernel](...queue.argsOf(chunk));
    }
  }

  finish(): void {}

  close(): void {}
}

/** At most this many chunks a kernel call (8 threads, 4 chunks each). */
export const MAX_CHUNKS = 32;
/** Arguments of a chunk: byte offsets and counts, as float64 (offsets may pass 2^31). */
export const CHUNK_ARGS = 16;
const QUEUE_HEADER = 8;

/**
 * A kernel call's chunks, each with its arguments, and the index of the next one to take: in a
 * SharedArrayBuffer that helper threads read too, or a plain buffer where there are none.
 */
export class ChunkQueue {
  private readonly header: Int32Array;
  private readonly args: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer | ArrayBuffer = new ArrayBuffer(ChunkQueue.BYTES)) {
    this.header = new Int32Array(buffer, 0, 2);
    this.args = new Float64Array(buffer, QUEUE_HEADER, MAX_CHUNKS * CHUNK_ARGS);
  }

  static readonly BYTES = QUEUE_HEADER + MAX_CHUNKS * CHUNK_ARGS * 8;

  /** Chunks of the call under way. */
  get chunks(): number {
    return Atomics.load(this.header, 1);
  }

  /** Sets a new call's chunks; only while no thread takes from the queue. */
  fill(chunks: number, argsOf: (chunk: number) => readonly number[]): void {
    if (chunks < 1 || chunks > MAX_CHUNKS) throw new RangeError(`A kernel call is cut into 1 to ${MAX_CHUNKS} chunks, not ${chunks}.`);
    for (let chunk = 0; chunk < chunks; chunk++) {
      const args = argsOf(chunk);
      if (args.length > CHUNK_ARGS) throw new RangeError(`A kernel takes at most ${CHUNK_ARGS} arguments (got ${args.length}).`);
      const row = this.args.subarray(chunk * CHUNK_ARGS, (chunk + 1) * CHUNK_ARGS);
      row.fill(0);
      row.set(args);
    }
    Atomics.store(this.header, 1, chunks);
    Atomics.store(this.header, 0, 0);
  }

  /** The next chunk not yet taken by any thread, or -1 when none is left. */
  take(): number {
    const chunk = Atomics.add(this.header, 0, 1);
    return chunk < this.chunks ? chunk : -1;
  }

  argsOf(chunk: number): number[] {
    return Array.from(this.args.subarray(chunk * CHUNK_ARGS, (chunk + 1) * CHUNK_ARGS));
  }
}

/** Runs a kernel on every chunk it can take from the queue. */
export function takeChunks(run: (...args: number[]) => void, queue: ChunkQueue): void {
  for (let chunk = queue.take(); chunk >= 0; chunk = queue.take()) run(...queue.argsOf(chunk));
}

/** The control block of one helper: [posted job number, finished job number, kernel index, failed job number]. */
export const CONTROL_BYTES = 16;
export const POSTED = 0;
export const FINISHED = 1;
export const KERNEL = 2;
export const FAILED = 3;

/** A call that takes longer than this means the helper is gone: training stops with an error rather than hang. */
const SHARE_TIMEOUT_MS = 120_000;

/** The caller's side of a helper worker. */
export class WorkerPartner implements Partner {
  private readonly control: Int32Array;
  private job = 0;

  constructor(
    private readonly worker: Worker,
    block: SharedArrayBuffer,
  ) {
    this.control = new Int32Array(block, 0, 4);
  }

  /**
   * Starts a helper worker on `module`, the shared `memory` and the shared chunk `queue`; resolves once it
   * waits for work, or null when it cannot start (the kernels then run on the calling thread alone).
   */
  static async start(makeWorker: () => Worker, module: WebAssembly.Module, memory: WebAssembly.Memory, queue: SharedArrayBuffer, timeoutMs = 10_000): Promise<WorkerPartner | null> {
    let worker: Worker;
    try {
      worker = makeWorker();
    } catch {
      return null;
    }
    const block = new SharedArrayBuffer(CONTROL_BYTES);
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      worker.onmessage = (event: MessageEvent<unknown>) => {
        clearTimeout(timer);
        resolve(event.data === 'ready');
      };
      worker.onerror = () => {
        clearTimeout(timer);
        resolve(false);
      };
    });
    worker.postMessage({ module, memory, block, queue });
    if (!(await ready)) {
      worker.terminate();
      return null;
    }
    return new WorkerPartner(worker, block);
  }

  start(kernel: PartnerKernel): void {
    Atomics.store(this.control, KERNEL, PARTNER_KERNELS.indexOf(kernel));
    this.job = this.job === 0x7fffffff ? 1 : this.job + 1;
    Atomics.store(this.control, POSTED, this.job);
    Atomics.notify(this.control, POSTED);
  }

  finish(): void {
    const until = performance.now() + SHARE_TIMEOUT_MS;
    for (;;) {
      const finished = Atomics.load(this.control, FINISHED);
      if (finished === this.job) break;
      if (performance.now() > until) throw new Error('A helper thread of the WebAssembly kernels stopped answering.');
      Atomics.wait(this.control, FINISHED, finished, 1000);
    }
    if (Atomics.load(this.control, FAILED) === this.job) throw new Error('A WebAssembly kernel failed on a helper thread.');
  }

  close(): void {
    Atomics.store(this.control, POSTED, -1);
    Atomics.notify(this.control, POSTED);
    this.worker.terminate();
  }
}

/** [start, end) of share `i` of `count` items split into `parts` nearly equal runs. */
export function shareOf(count: number, parts: number, i: number): [number, number] {
  const base = Math.floor(count / parts);
  const extra = count % parts;
  const start = i * base + Math.min(i, extra);
  return [start, start + base + (i < extra ? 1 : 0)];
}
