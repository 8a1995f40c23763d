import type { Page } from '@playwright/test';

/** A long animation frame (over 50 ms) and what ran in it: the scripts over 5 ms, and the rendering after them. */
export interface LongFrame {
  start: number;
  duration: number;
  /** Style, layout and paint at the frame's end (ms); 0 when it rendered nothing. */
  render: number;
  scripts: { what: string; duration: number; layout: number }[];
}

interface Recorded {
  __longTasks: [number, number][];
  __longFrames: LongFrame[];
}

/**
 * Records the page's long tasks (main-thread tasks over 50 ms, PerformanceObserver 'longtask') from its
 * first script on, and its long animation frames ('long-animation-frame': which scripts ran in them); call
 * before `page.goto`. `longTasks(page, since)` gives the durations after `since`, `longFrames` the frames.
 */
export async function recordLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const recorded = window as unknown as Recorded;
    const tasks: [number, number][] = [];
    const frames: LongFrame[] = [];
    recorded.__longTasks = tasks;
    recorded.__longFrames = frames;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) tasks.push([entry.startTime, entry.duration]);
    }).observe({ type: 'longtask', buffered: true });
    interface ScriptTiming {
      invoker: string;
      sourceURL: string;
      sourceFunctionName: string;
      sourceCharPosition: number;
      duration: number;
      forcedStyleAndLayoutDuration: number;
    }
    interface FrameTiming extends PerformanceEntry {
      renderStart: number;
      scripts: ScriptTiming[];
    }
    // Not every browser has it; long tasks are still recorded.
    if (!PerformanceObserver.supportedEntryTypes.includes('long-animation-frame')) return;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as FrameTiming[]) {
        frames.push({
          start: entry.startTime,
          duration: entry.duration,
          render: entry.renderStart > 0 ? entry.startTime + entry.duration - entry.renderStart : 0,
          scripts: entry.scripts.map((s) => ({
            what: `${s.invoker} → ${s.sourceFunctionName || '(anonymous)'} ${s.sourceURL.replace(/^.*\//, '')}:${s.sourceCharPosition}`,
            duration: s.duration,
            layout: s.forcedStyleAndLayoutDuration,
          })),
        });
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  });
}

export async function pageNow(page: Page): Promise<number> {
  return page.evaluate(() => performance.now());
}

export async function longTasks(page: Page, since: number): Promise<number[]> {
  return page.evaluate(
    (from) => (window as unknown as Recorded).__longTasks.filter(([start]) => start >= from).map(([, duration]) => Math.round(duration)),
    since,
  );
}

/** The long animation frames that started after `since` (empty where the browser does not report them). */
export async function longFrames(page: Page, since: number): Promise<LongFrame[]> {
  return page.evaluate((from) => (window as unknown as Recorded).__longFrames.filter((f) => f.start >= from), since);
}

/** One line a frame: its duration, rendering and the scripts that ran in it, longest first. */
export function describeFrame(frame: LongFrame): string {
  const scripts = [...frame.scripts].sort((a, b) => b.duration - a.duration).map((s) => `${s.what} ${Math.round(s.duration)} ms${s.layout > 1 ? ` (forced layout ${Math.round(s.layout)})` : ''}`);
  return `${Math.round(frame.duration)} ms at ${(frame.start / 1000).toFixed(1)} s: render ${Math.round(frame.render)} ms; ${scripts.join('; ') || 'no script over 5 ms'}`;
}
