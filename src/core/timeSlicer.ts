/**
 * Long synchronous work on the page's thread (listing a zip of thousands of entries, indexing them) holds off input
 * and paint for as long as it runs (issue 12: no main-thread task over 50 ms). A time slicer cuts it up: await it
 * between steps, and once `budgetMs` have passed since the last break it lets one macrotask go by (the page then
 * handles input and paints); otherwise it costs a microtask.
 */
export type TimeSlicer = () => Promise<void>;

/** Well under the 50 ms of a long task: on a busy machine a slice of 8 ms of work can take three times as long. */
export const SLICE_BUDGET_MS = 8;

export function timeSlicer(budgetMs = SLICE_BUDGET_MS): TimeSlicer {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < budgetMs) return;
    await nextTask();
    since = performance.now();
  };
}

/** Resolves in a later task: `scheduler.yield` where there is one (it keeps the work's priority), else a timer. */
export function nextTask(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (typeof scheduler?.yield === 'function') return scheduler.yield();
  return new Promise((resolve) => setTimeout(resolve, 0));
}
