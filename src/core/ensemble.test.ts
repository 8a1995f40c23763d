import { describe, expect, it } from 'vitest';
import { ensembleConflict, ensembleText, plannedMembers, seedOfMember, seedPlan, snapshotPlan } from './ensemble';

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

describe('a seed ensemble: its plan, its seeds, its refusal and its sentence', () => {
  it('trains K members for two classes, one model for more (said as the snapshot setting says it)', () => {
    expect(seedPlan(1, 2)).toEqual({ members: 1, note: null });
    expect(seedPlan(3, 2)).toEqual({ members: 3, note: null });
    const plan = seedPlan(3, 4);
    expect(plan.members).toBe(1);
    expect(plan.note).toMatch(/^Seed ensemble needs two classes; trained one model \(this dataset has 4/);
  });

  it('seeds member k with seed + 1009 k, so the members of seed 1 and seed 2 runs never share a seed', () => {
    expect([0, 1, 2].map((k) => seedOfMember(1, k))).toEqual([1, 1010, 2019]);
    const ofSeed1 = new Set([0, 1, 2, 3, 4].map((k) => seedOfMember(1, k)));
    expect([0, 1, 2, 3, 4].some((k) => ofSeed1.has(seedOfMember(2, k)))).toBe(false);
  });

  it('refuses both ensembles at once in words, and the summary shows the model that will be saved', () => {
    expect(ensembleConflict({ snapshots: 1, seedModels: 3 })).toBeNull();
    expect(ensembleConflict({ snapshots: 3, seedModels: 1 })).toBeNull();
    expect(ensembleConflict({ snapshots: 2, seedModels: 3 })).toMatch(
      /^Seed ensemble 3 and Snapshot ensemble 2 cannot be combined .*set one of them to 1\.$/,
    );
    expect(plannedMembers({ snapshots: 1, seedModels: 3, epochs: 1 }, 2)).toBe(3);
    expect(plannedMembers({ snapshots: 3, seedModels: 1, epochs: 2 }, 2)).toBe(2);
    expect(plannedMembers({ snapshots: 2, seedModels: 3, epochs: 10 }, 2)).toBe(1);
    expect(plannedMembers({ snapshots: 1, seedModels: 3, epochs: 10 }, 3)).toBe(1);
  });

  it('says what the ensemble cost to train, measured, or that it was not timed', () => {
    const run = { kind: 'seeds' as const, members: 3, predictTimeRatio: 4.04, trainingTimeRatio: 2.94 };
    expect(ensembleText(run)).toMatch(
      /^A seed ensemble of 3 members saved as one model: .*it took 2\.9 times one member's training time; .*it took 4\.0 times one member's predict time\.$/,
    );
    expect(ensembleText({ ...run, trainingTimeRatio: null })).toMatch(/training time against one member was not timed/);
  });
});
