/**
 * Running one native kernel on several threads: the calling thread does the first share of the work
 * and each partner one more (split by images or pixels, so every share writes its own part of the output,
 * or its own copy to be summed). In the page, a partner is a helper worker (helper.worker.ts) that runs
 * the same module on the same shared heap and waits on a control block with Atomics; in Node (tests)
 * an inline partner runs its share on the calling thread, so the splitting is tested without threads.
 */

/** The kernels a partner can run (exports of training.c); the index is what crosses the control block. */
export const PARTNER_KERNELS = ['conv2d_filter_grad', 'max_pool_2x2_grad', 'channel_affine', 'channel_affine2', 'relu_grad', 'channel_sums', 'channel_grad_sums', 'conv2d_forward', 'conv2d_input_grad'] as const;
export type PartnerKernel = (typeof PARTNER_KERNELS)[number];

type Exports = Record<string, (...args: number[]) => void>;

export interface Partner {
  /** Starts `kernel(...args)` (byte offsets and counts); returns at once for a thread, after it for an inline partner. */
  start(kernel: PartnerKernel, args: readonly number[]): void;
  /** Returns once the share started last is done. */
  finish(): void;
  /** Ends the thread, if any. */
  close(): void;
}

/** Runs each share on the calling thread, at start. */
export class InlinePartner implements Partner {
  constructor(private readonly exports: Exports) {}

  start(kernel: PartnerKernel, args: readonly number[]): void {
    this.exports[kernel](...args);
  }

  finish(): void {}

  close(): void {}
}

/**
 * The control block both sides share: [posted job number, finished job number, kernel index, failed job
 * number], then 16 float64 arguments (byte offsets may pass 2^31).
 */
export const CONTROL_BYTES = 16 + 16 * 8;
export const POSTED = 0;
export const FINISHED = 1;
export const KERNEL = 2;
export const FAILED = 3;

/** A share that takes longer than this means the helper is gone: training stops with an error rather than hang. */
const SHARE_TIMEOUT_MS = 120_000;

/** The caller's side of a helper worker. */
export class WorkerPartner implements Partner {
  private readonly control: Int32Array;
  private readonly args: Float64Array;
  private job = 0;

  constructor(
    private readonly worker: Worker,
    block: SharedArrayBuffer,
  ) {
    this.control = new Int32Array(block, 0, 4);
    this.args = new Float64Array(block, 16, 16);
  }

  /**
   * Starts a helper worker on `module` and the shared `memory`; resolves once it waits for work, or
   * null when it cannot start (the kernels then run on the calling thread alone).
   */
  static async start(makeWorker: () => Worker, module: WebAssembly.Module, memory: WebAssembly.Memory, timeoutMs = 10_000): Promise<WorkerPartner | null> {
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
    worker.postMessage({ module, memory, block });
    if (!(await ready)) {
      worker.terminate();
      return null;
    }
    return new WorkerPartner(worker, block);
  }

  start(kernel: PartnerKernel, args: readonly number[]): void {
    this.args.fill(0);
    this.args.set(args);
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
