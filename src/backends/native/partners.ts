/**
 * Running one native kernel on several threads. The work is cut into chunks (by images or pixels, so every
 * chunk writes its own part of the output, or its own copy to be summed), put in a shared queue, and every
 * thread, the calling one too, takes the next chunk until none is left: a thread slowed by other work takes
 * fewer, instead of every thread waiting for the slowest share. In the page, a partner is a helper worker (helper.worker.ts)
 * that runs the same module on the same shared heap and waits on a control block with Atomics; in Node
 * (tests) an inline partner takes its fair part of the chunks on the calling thread, so the chunking is
 * tested without threads.
 */
import { CHUNKS_A_THREAD, MAX_KERNEL_THREADS } from './threadCount';

/** The kernels a partner can run (exports of csrc/); the queue holds the job's kernel by its index here. */
export const PARTNER_KERNELS = [
  'conv2d_filter_grad',
  'max_pool_2x2_grad',
  'channel_affine',
  'channel_affine2',
  'relu_grad',
  'channel_sums',
  'channel_grad_sums',
  'conv2d_forward',
  'conv2d_input_grad',
  'max_pool_2x2',
  'channel_bias',
  'relu',
  'relu_grad_sums',
] as const;
export type PartnerKernel = (typeof PARTNER_KERNELS)[number];

type Exports = Record<string, (...args: number[]) => void>;

export interface Partner {
  /** Wakes the partner for `kernel`'s chunks in `queue`; returns at once for a thread, after its part for an inline partner. */
  start(kernel: PartnerKernel, queue: ChunkQueue): void;
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
    const job = queue.job;
    for (let taken = 0; taken < Math.ceil(queue.chunks / this.threads); taken++) {
      const chunk = queue.take(job);
      if (chunk < 0) return;
      runChunk(this.exports[kernel], queue, job, chunk, true);
    }
  }

  close(): void {}
}

/** At most this many chunks a kernel call (4 for each of the most threads). */
export const MAX_CHUNKS = CHUNKS_A_THREAD * MAX_KERNEL_THREADS;
/** Arguments of a chunk: byte offsets and counts, as float64 (offsets may pass 2^31). */
export const CHUNK_ARGS = 16;
/** The header: [job and next chunk, chunks, chunks done, failed job, kernel index, chunks helpers did (all jobs), _, _]. */
const QUEUE_HEADER = 32;
const [TAKEN, CHUNKS, DONE, FAILED_JOB, KERNEL_INDEX, BY_HELPERS] = [0, 1, 2, 3, 4, 5];
/**
 * The next chunk's index sits in the low bits of the header's first word, the job number in the rest; all ones
 * (more than MAX_CHUNKS) marks a job closed while it is filled.
 */
export const CHUNK_BITS = 8;
const JOBS = 2 ** (31 - CHUNK_BITS);

/** The longest the caller sleeps waiting for other threads' chunks before it looks again, woken or not. */
export const WAIT_MS = 10;
/** A call whose chunks are not all done by then means a thread is gone: training stops with an error rather than hang. */
const CALL_TIMEOUT_MS = 120_000;

/**
 * A kernel call's chunks, each with its arguments, in a SharedArrayBuffer that helper threads read too (or a plain
 * buffer where there are none). Every call is a new job; a thread takes chunks only of the job it was woken for, by
 * a compare-and-swap on one word that holds the job and the next chunk together, so a thread that wakes late (or
 * never: Chromium 156 sometimes left a helper asleep through its first call) can neither run a chunk of a later call
 * nor hold the caller up: the caller takes every chunk nobody took, and waits only for chunks under way.
 */
export class ChunkQueue {
  private readonly header: Int32Array;
  private readonly args: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer | ArrayBuffer = new ArrayBuffer(ChunkQueue.BYTES)) {
    this.header = new Int32Array(buffer, 0, QUEUE_HEADER / 4);
    this.args = new Float64Array(buffer, QUEUE_HEADER, MAX_CHUNKS * CHUNK_ARGS);
  }

  static readonly BYTES = QUEUE_HEADER + MAX_CHUNKS * CHUNK_ARGS * 8;

  /** The job under way. */
  get job(): number {
    return Atomics.load(this.header, TAKEN) >>> CHUNK_BITS;
  }

  /** Chunks of the job under way. */
  get chunks(): number {
    return Atomics.load(this.header, CHUNKS);
  }

  /** Chunks taken so far of the job under way (past `chunks` once all are). */
  get next(): number {
    return Atomics.load(this.header, TAKEN) & ((1 << CHUNK_BITS) - 1);
  }

  /** The index into PARTNER_KERNELS of the job's kernel. */
  get kernel(): number {
    return Atomics.load(this.header, KERNEL_INDEX);
  }

  /** Starts a new job of `chunks` chunks of `kernel`; only once every chunk of the last one is done (see waitDone). */
  fill(chunks: number, argsOf: (chunk: number) => readonly number[], kernel: PartnerKernel = PARTNER_KERNELS[0]): void {
    if (chunks < 1 || chunks > MAX_CHUNKS)
      throw new RangeError(`A kernel call is cut into 1 to ${MAX_CHUNKS} chunks, not ${chunks}.`);
    const job = (this.job + 1) % JOBS;
    // First closed: the new job with no chunk left to take, so that a thread late for the last job takes none
    // while the arguments, count and kernel change.
    Atomics.store(this.header, TAKEN, (job << CHUNK_BITS) | ((1 << CHUNK_BITS) - 1));
    for (let chunk = 0; chunk < chunks; chunk++) {
      const args = argsOf(chunk);
      if (args.length > CHUNK_ARGS)
        throw new RangeError(`A kernel takes at most ${CHUNK_ARGS} arguments (got ${args.length}).`);
      const row = this.args.subarray(chunk * CHUNK_ARGS, (chunk + 1) * CHUNK_ARGS);
      row.fill(0);
      row.set(args);
    }
    Atomics.store(this.header, CHUNKS, chunks);
    Atomics.store(this.header, DONE, 0);
    Atomics.store(this.header, KERNEL_INDEX, PARTNER_KERNELS.indexOf(kernel));
    // Last: opening the job is what lets threads take its chunks.
    Atomics.store(this.header, TAKEN, job << CHUNK_BITS);
  }

  /** The next chunk of `job` not yet taken by any thread, or -1 when none is left (or another job is under way). */
  take(job: number): number {
    for (;;) {
      const word = Atomics.load(this.header, TAKEN);
      const chunk = word & ((1 << CHUNK_BITS) - 1);
      if (word >>> CHUNK_BITS !== job || chunk >= Atomics.load(this.header, CHUNKS)) return -1;
      if (Atomics.compareExchange(this.header, TAKEN, word, word + 1) === word) return chunk;
    }
  }

  argsOf(chunk: number): number[] {
    return Array.from(this.args.subarray(chunk * CHUNK_ARGS, (chunk + 1) * CHUNK_ARGS));
  }

  /** Chunks helper threads have done, over every job so far (a helper that never wakes leaves it at 0). */
  get chunksByHelpers(): number {
    return Atomics.load(this.header, BY_HELPERS);
  }

  /** Counts a chunk of `job` done (failed, when `failed`; on a helper thread, when `byHelper`), and wakes the caller waiting for the last. */
  chunkDone(job: number, failed: boolean, byHelper = false): void {
    if (failed) Atomics.store(this.header, FAILED_JOB, job);
    if (byHelper) Atomics.add(this.header, BY_HELPERS, 1);
    Atomics.add(this.header, DONE, 1);
    Atomics.notify(this.header, DONE);
  }

  /** Returns once every chunk of `job` is done; throws if one failed, or if they are not done in time. */
  waitDone(job: number, timeoutMs = CALL_TIMEOUT_MS): void {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const done = Atomics.load(this.header, DONE);
      if (done >= this.chunks) break;
      if (performance.now() > until) {
        throw new Error(
          `A helper thread of the WebAssembly kernels stopped answering (${PARTNER_KERNELS[this.kernel]}: ${done} of ${this.chunks} chunks done).`,
        );
      }
      Atomics.wait(this.header, DONE, done, WAIT_MS);
    }
    if (Atomics.load(this.header, FAILED_JOB) === job)
      throw new Error('A WebAssembly kernel failed on a helper thread.');
  }
}

/** Runs one chunk, counting it done whatever happens (a failure is recorded for the caller, then thrown on). */
function runChunk(
  run: (...args: number[]) => void,
  queue: ChunkQueue,
  job: number,
  chunk: number,
  byHelper = false,
): void {
  let failed = true;
  try {
    run(...queue.argsOf(chunk));
    failed = false;
  } finally {
    queue.chunkDone(job, failed, byHelper);
  }
}

/**
 * Runs a kernel on every chunk of `job` it can take from the queue (the caller: then waits for the others' with
 * waitDone; a helper thread says so with `byHelper`, and its chunks are counted).
 */
export function takeChunks(
  run: (...args: number[]) => void,
  queue: ChunkQueue,
  job = queue.job,
  byHelper = false,
): void {
  for (let chunk = queue.take(job); chunk >= 0; chunk = queue.take(job)) runChunk(run, queue, job, chunk, byHelper);
}

/** The control block of one helper: [posted job number]: a helper wakes when it changes (-1: end). */
export const CONTROL_BYTES = 4;
export const POSTED = 0;

/** The caller's side of a helper worker. */
export class WorkerPartner implements Partner {
  private readonly control: Int32Array;

  constructor(
    private readonly worker: Worker,
    block: SharedArrayBuffer,
  ) {
    this.control = new Int32Array(block, 0, 1);
  }

  /**
   * Starts a helper worker on `module`, the shared `memory` and the shared chunk `queue`; resolves once it
   * waits for work, or null when it cannot start (the kernels then run on the calling thread alone).
   */
  static async start(
    makeWorker: () => Worker,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    queue: SharedArrayBuffer,
    timeoutMs = 10_000,
  ): Promise<WorkerPartner | null> {
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

  start(_kernel: PartnerKernel, queue: ChunkQueue): void {
    Atomics.store(this.control, POSTED, queue.job);
    Atomics.notify(this.control, POSTED);
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
