import { describe, expect, it } from 'vitest';
import { snapshotPlan } from './ensemble';

describe('what a snapshot-ensemble run trains when its classes or epochs do not allow what was asked', () => {
  it('trains what was asked where it can: one model for 1, K members for two classes and K epochs or more', () => {
    expect(snapshotPlan(1, 1, 3)).toEqual({ members: 1, note: null });
    expect(snapshotPlan(3, 3, 2)).toEqual({ members: 3, note: null });
    expect(snapshotPlan(3, 10, 2)).toEqual({ members: 3, note: null });
  });

  it('more than 2 classes: one model, said in words', () => {
    const plan = snapshotPlan(3, 10, 3);
    expect(plan.members).toBe(1);
    expect(plan.note).toMatch(/^Snapshot ensemble needs two classes; trained one model \(this dataset has 3/);
  });

  it('fewer epochs than members: a member an epoch (2 or more), else one model, said in words', () => {
    expect(snapshotPlan(4, 2, 2)).toEqual({
      members: 2,
      note: expect.stringMatching(/of 4 needs 4 epochs.*with 2 epochs it trained 2 members/) as unknown as string,
    });
    const one = snapshotPlan(3, 1, 2);
    expect(one.members).toBe(1);
    expect(one.note).toMatch(/with 1 epoch it trained one model/);
  });
});
