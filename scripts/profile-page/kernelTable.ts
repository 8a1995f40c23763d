/** What bench:profile's and bench:gpu's workers share: tf.profile's kernels tallied and tabled, and the reply. */
import type * as tf from '@tensorflow/tfjs';

export type KernelTally = Map<string, { ms: number; calls: number }>;
type ProfiledKernels = Awaited<ReturnType<typeof tf.profile>>['kernels'];

/** Adds one profiled step's kernels to `tally`, each weighted by `share` (1 / the steps profiled, for a mean). */
export function tallyKernels(tally: KernelTally, kernels: ProfiledKernels, share = 1): KernelTally {
  for (const k of kernels) {
    const entry = tally.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0) * share;
    entry.calls += share;
    tally.set(k.name, entry);
  }
  return tally;
}

/** The tally's total kernel time, and its `top` kernels, largest first: name, ms, calls, share. */
export function kernelTable(tally: KernelTally, top: number): { total: number; lines: string[] } {
  const total = [...tally.values()].reduce((sum, e) => sum + e.ms, 0);
  const lines = [...tally.entries()]
    .sort((a, b) => b[1].ms - a[1].ms || b[1].calls - a[1].calls)
    .slice(0, top)
    .map(([kernel, e]) => {
      const share = total > 0 ? `${((100 * e.ms) / total).toFixed(1)}%` : '-';
      const [ms, calls] = [e.ms.toFixed(2).padStart(9), e.calls.toFixed(0).padStart(5)];
      return `    ${kernel.padEnd(24)}${ms} ms${calls} calls${share.padStart(8)}`;
    });
  return { total, lines };
}

/** Answers the page's one message with `report`'s text, or 'error …'. */
export function answerWith<T>(report: (options: T) => Promise<string>): void {
  self.onmessage = (event: MessageEvent<T>) => {
    report(event.data).then(
      (text) => postMessage(text),
      (error: unknown) => {
        postMessage(`error ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      },
    );
  };
}
