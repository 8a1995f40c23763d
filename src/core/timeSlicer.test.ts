import { describe, expect, it } from 'vitest';
import { timeSlicer } from './timeSlicer';

describe('timeSlicer', () => {
  it('lets a task run once the budget is spent', async () => {
    const slice = timeSlicer(0);
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    await slice();
    expect(timerRan).toBe(true);
  });

  it('costs only a microtask within the budget', async () => {
    const slice = timeSlicer(60_000);
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    for (let i = 0; i < 100; i++) await slice();
    expect(timerRan).toBe(false);
  });
});
