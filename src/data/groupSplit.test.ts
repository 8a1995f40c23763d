import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import type { SplitName } from '../core/types';
import { drawGroups, groupEntries } from './groupSplit';
import { patientKey } from './patients';
import { planValidation } from './splits';
import { holdOutTest } from './testHoldout';
import type { ImageEntry } from './types';

const names = ['NORMAL', 'PNEUMONIA'];

function entry(path: string, className: string, split: SplitName = 'train'): ImageEntry {
  return { path: `chest_xray/train/${className}/${path}`, split, className, read: async () => new Blob() };
}

/**
 * A chest-X-ray-like train folder: NORMAL patients with 1-4 images (IM-NNNN-MMMM), PNEUMONIA patients with
 * 1-8 (personN_bacteria/virus), about 3 PNEUMONIA images to 1 NORMAL, and a few names with no patient.
 */
function archive(seed = 5): ImageEntry[] {
  const rng = mulberry32(seed);
  const list: ImageEntry[] = [];
  for (let p = 1; p <= 150; p++) {
    const n = 1 + Math.floor(rng() * 4);
    for (let i = 1; i <= n; i++)
      list.push(entry(`IM-${String(p).padStart(4, '0')}-${String(i).padStart(4, '0')}.jpeg`, 'NORMAL'));
  }
  for (let p = 1; p <= 250; p++) {
    const n = 1 + Math.floor(rng() * 8);
    for (let i = 1; i <= n; i++)
      list.push(entry(`person${p}_${i % 2 ? 'bacteria' : 'virus'}_${p * 10 + i}.jpeg`, 'PNEUMONIA'));
  }
  for (let i = 0; i < 20; i++) list.push(entry(`scan-${i}.jpeg`, i % 2 ? 'NORMAL' : 'PNEUMONIA'));
  return list;
}

const patientsOf = (list: readonly ImageEntry[]) => new Set(list.map((e) => patientKey(e.path) ?? e.path));
const share = (part: readonly ImageEntry[], whole: readonly ImageEntry[], className: string) =>
  part.filter((e) => e.className === className).length / whole.filter((e) => e.className === className).length;

describe('group-aware validation hold-out', () => {
  const entries = archive();

  it('never puts one patient in train and validation', () => {
    for (const seed of [1, 2, 3]) {
      const { train, validation } = planValidation(entries, names, seed, 0.2, patientKey);
      const held = patientsOf(validation);
      expect([...patientsOf(train)].filter((p) => held.has(p))).toEqual([]);
      expect(train.length + validation.length).toBe(entries.length);
    }
  });

  it('holds out near the asked share of each class', () => {
    for (const fraction of [0.1, 0.2, 0.3]) {
      const { validation } = planValidation(entries, names, 1, fraction, patientKey);
      for (const name of names) expect(Math.abs(share(validation, entries, name) - fraction)).toBeLessThan(0.02);
    }
  });

  it('is the same for a seed, and another for another seed', () => {
    const a = planValidation(entries, names, 1, 0.1, patientKey).validation.map((e) => e.path);
    expect(planValidation(entries, names, 1, 0.1, patientKey).validation.map((e) => e.path)).toEqual(a);
    expect(planValidation(entries, names, 2, 0.1, patientKey).validation.map((e) => e.path)).not.toEqual(a);
  });

  it('says it split by patient, and how many patients', () => {
    const { validation, plan } = planValidation(entries, names, 1, 0.1, patientKey);
    expect(plan.description).toMatch(
      new RegExp(
        `^Validation: 10% of train held out \\(${validation.length} images of ${patientsOf(validation).size} patients\\), stratified, by patient, seed 1 \\(there is no val folder\\)$`,
      ),
    );
  });

  it('without groups draws exactly the images an image-level split draws', () => {
    const byImage = planValidation(entries, names, 4, 0.1);
    const noKeys = planValidation(entries, names, 4, 0.1, () => null);
    expect(noKeys.validation).toEqual(byImage.validation);
    expect(byImage.plan.description).toMatch(/held out \(\d+ images\), stratified, seed 4/);
  });

  it('keeps at least one patient of a class in train, and holds one out even when all are large', () => {
    const two = [
      ...Array.from({ length: 5 }, (_, i) => entry(`person1_virus_${i}.jpeg`, 'PNEUMONIA')),
      ...Array.from({ length: 6 }, (_, i) => entry(`person2_virus_${i}.jpeg`, 'PNEUMONIA')),
      entry('IM-0001-0001.jpeg', 'NORMAL'),
      entry('IM-0002-0001.jpeg', 'NORMAL'),
    ];
    const { train, validation } = planValidation(two, names, 1, 0.1, patientKey);
    expect(patientsOf(validation.filter((e) => e.className === 'PNEUMONIA')).size).toBe(1);
    expect(patientsOf(train.filter((e) => e.className === 'PNEUMONIA')).size).toBe(1);
    const one = two.filter((e) => !e.path.includes('person2'));
    expect(
      planValidation(one, names, 1, 0.1, patientKey).validation.filter((e) => e.className === 'PNEUMONIA'),
    ).toEqual([]);
  });
});

describe('group-aware test hold-out', () => {
  it('moves whole patients to test, near the share of each class, seeded', () => {
    const entries = archive(9);
    const { entries: out, description } = holdOutTest(entries, names, 0.15, 1, patientKey);
    const test = out.filter((e) => e.split === 'test');
    const train = out.filter((e) => e.split === 'train');
    const tested = patientsOf(test);
    expect([...patientsOf(train)].filter((p) => tested.has(p))).toEqual([]);
    for (const name of names) expect(Math.abs(share(test, entries, name) - 0.15)).toBeLessThan(0.02);
    expect(description).toMatch(
      new RegExp(
        `^Test: 15% of train held out \\(${test.length} images of ${tested.size} patients: NORMAL \\d+, PNEUMONIA \\d+\\), stratified, by patient, seed 1,`,
      ),
    );
    expect(holdOutTest(entries, names, 0.15, 1, patientKey).entries).toEqual(out);
    // Then validation is drawn from what is left, still by patient: three splits, no patient in two.
    const { train: rest, validation } = planValidation(out, names, 1, 0.1, patientKey);
    const held = patientsOf(validation);
    expect([...patientsOf(rest)].filter((p) => held.has(p) || tested.has(p))).toEqual([]);
  });
});

describe('groups', () => {
  it('draw a patient with its majority class, ties to the first class', () => {
    const list = [
      entry('person1_a_1.jpeg', 'PNEUMONIA'),
      entry('person1_a_2.jpeg', 'NORMAL'),
      entry('person1_a_3.jpeg', 'PNEUMONIA'),
      entry('person2_a_1.jpeg', 'PNEUMONIA'),
      entry('person2_a_2.jpeg', 'NORMAL'),
    ];
    expect(groupEntries(list, names, patientKey).map((g) => [g.entries.length, g.classIndex])).toEqual([
      [3, 1],
      [2, 0],
    ]);
    const draw = drawGroups(list, names, 0.5, mulberry32(1), patientKey);
    expect(draw.anyShared).toBe(true);
  });
});
