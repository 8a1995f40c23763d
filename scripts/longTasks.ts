import type { Page } from '@playwright/test';

/** A long animation frame (over 50 ms) and what ran in it: the scripts over 5 ms, and the rendering after them. */
export interface LongFrame {
  start: number;
  duration: number;
  /** Style, layout and paint at the frame's end (ms); 0 when it rendered nothing. */
  render: number;
  scripts: { what: string; start: number; duration: number; layout: number }[];
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
      startTime: number;
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
            start: s.startTime,
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
    (from) =>
      (window as unknown as Recorded).__longTasks
        .filter(([start]) => start >= from)
        .map(([, duration]) => Math.round(duration)),
    since,
  );
}

/** A long task and the scripts that ran in it (from the long animation frames; none where the browser has no such report). */
export interface LongTask {
  start: number;
  duration: number;
  /** Milliseconds of script in the task: the rest was rendering, or the thread waiting for a core. */
  script: number;
  scripts: LongFrame['scripts'];
}

/** The long tasks after `since`, each with the scripts that started inside it. */
export async function longTaskDetails(page: Page, since: number): Promise<LongTask[]> {
  const { tasks, frames } = await page.evaluate((from) => {
    const recorded = window as unknown as Recorded;
    return {
      tasks: recorded.__longTasks.filter(([start]) => start >= from),
      frames: recorded.__longFrames.filter((f) => f.start + f.duration >= from),
    };
  }, since);
  const scripts = frames.flatMap((f) => f.scripts);
  return tasks.map(([start, duration]) => {
    // Chromium times a task from a little before its first script starts.
    const inside = scripts.filter((s) => s.start >= start - 1 && s.start < start + duration);
    return { start, duration, script: inside.reduce((sum, s) => sum + s.duration, 0), scripts: inside };
  });
}

/** One line a long task: its duration, its script time and the scripts, longest first. */
export function describeTask(task: LongTask): string {
  const scripts = [...task.scripts]
    .sort((a, b) => b.duration - a.duration)
    .map((s) => `${s.what} ${Math.round(s.duration)} ms`);
  return `${Math.round(task.duration)} ms at ${(task.start / 1000).toFixed(1)} s, ${Math.round(task.script)} ms of script: ${scripts.join('; ') || 'no script over 5 ms'}`;
}

/** The long animation frames that started after `since` (empty where the browser does not report them). */
export async function longFrames(page: Page, since: number): Promise<LongFrame[]> {
  return page.evaluate((from) => (window as unknown as Recorded).__longFrames.filter((f) => f.start >= from), since);
}

/** One line a frame: its duration, rendering and the scripts that ran in it, longest first. */
export function describeFrame(frame: LongFrame): string {
  const scripts = [...frame.scripts]
    .sort((a, b) => b.duration - a.duration)
    .map(
      (s) => `${s.what} ${Math.round(s.duration)} ms${s.layout > 1 ? ` (forced layout ${Math.round(s.layout)})` : ''}`,
    );
  return `${Math.round(frame.duration)} ms at ${(frame.start / 1000).toFixed(1)} s: render ${Math.round(frame.render)} ms; ${scripts.join('; ') || 'no script over 5 ms'}`;
}
