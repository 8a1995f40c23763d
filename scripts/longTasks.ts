import type { Page } from '@playwright/test';

/**
 * Records the page's long tasks (main-thread tasks over 50 ms, PerformanceObserver 'longtask') from its
 * first script on; call before `page.goto`. `longTasks(page, since)` gives the durations after `since`.
 */
export async function recordLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const tasks: [number, number][] = [];
    (window as unknown as { __longTasks: [number, number][] }).__longTasks = tasks;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) tasks.push([entry.startTime, entry.duration]);
    }).observe({ type: 'longtask', buffered: true });
  });
}

export async function pageNow(page: Page): Promise<number> {
  return page.evaluate(() => performance.now());
}

export async function longTasks(page: Page, since: number): Promise<number[]> {
  return page.evaluate(
    (from) => (window as unknown as { __longTasks: [number, number][] }).__longTasks.filter(([start]) => start >= from).map(([, duration]) => Math.round(duration)),
    since,
  );
}
