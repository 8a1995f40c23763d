/**
 * How many threads our WebAssembly kernels run on, and how a kernel call is cut between them.
 *
 * One thread a logical core the browser reports (navigator.hardwareConcurrency), the training worker's own
 * included: training owns the machine while it runs. Until issue 22 the count stopped at 8, because the chunk
 * queue (partners.ts) held 32 chunks, 4 for each of 8 threads; on a 16-core machine the app trained on 8 threads
 * while PyTorch on 16 threads there was 1.5-2x faster than on 8. The queue now holds 4 chunks for each of
 * MAX_KERNEL_THREADS threads.
 *
 * Where added threads pay is decided per call, not once: a call is cut into at most 4 chunks a thread and at most
 * one per minimum share of work (NativeKernels.split: a BatchNorm pass no fewer than 4,096 pixels a chunk, an
 * element-wise one 65,536 numbers), and only as many helpers are woken as there are chunks beyond the caller's
 * first. So a small call (a deep layer at 64 px) runs on a few threads, a large one (150 px) on all of them.
 */

/** Chunks a thread a split kernel call: enough for a thread slowed by other work to take fewer, few enough that each fills a thread a while. */
export const CHUNKS_A_THREAD = 4;

/**
 * The most threads, a bound on helper workers (each a WebAssembly instance on the shared heap) for machines that
 * report very many cores; twice the 16 cores measured on (docs/webgl-and-threads.md).
 */
export const MAX_KERNEL_THREADS = 32;

/** Threads for our kernels where the page may use threads (cross-origin isolated): one a reported core, 1 to MAX_KERNEL_THREADS. */
export function kernelThreadsFor(reportedCores: number | undefined): number {
  const cores = Math.floor(Number(reportedCores));
  return Number.isFinite(cores) && cores > 1 ? Math.min(MAX_KERNEL_THREADS, cores) : 1;
}

/** Helpers to wake for a call cut into `chunks` (the caller takes chunks too): none for one chunk, at most all. */
export function helpersToWake(chunks: number, helpers: number): number {
  return Math.max(0, Math.min(helpers, chunks - 1));
}
