/**
 * A test split for archives that have none: a stratified, seeded share of each class of train is set
 * aside before validation is chosen, so an accuracy benchmark (and a person) can measure the model on
 * images it never trained or early-stopped on. Off (0) by default: without a test folder the page
 * then evaluates on validation, as before.
 */
import { mulberry32 } from '../core/random';
import { DatasetError } from './errors';
import { drawGroups, groupEntries, holdOutCount, patientsText, type GroupKeyFn } from './groupSplit';
import { fileNameOf } from './patients';
import type { ImageEntry } from './types';

/** Largest share of train that may be held out for testing. */
export const MAX_TEST_HOLDOUT = 0.5;

/** Mixed into the load seed, so the test draw is not the validation draw of the same seed. */
const TEST_SALT = 0x7e57;

export interface TestHoldout {
  /** The entries with the held-out ones moved to split `test` (the same objects otherwise). */
  entries: ImageEntry[];
  /** How the test split was made, for the page; null when nothing was held out. */
  description: string | null;
}

/** Images of a class of `n` to hold out: the share rounded, at least one, never the class's last one. */
export const testHoldoutCount: (n: number, fraction: number) => number = holdOutCount;

/**
 * Moves a stratified `fraction` of each class of the train folder to `test`, drawn with a seeded
 * shuffle, when the archive has no test images; whole patients at a time when `groupOf` knows them
 * (groupSplit.ts), so no patient is both trained and tested on. Entries keep their input order.
 */
export function holdOutTest(
  entries: readonly ImageEntry[],
  classNames: readonly string[],
  fraction: number,
  seed: number,
  groupOf: GroupKeyFn | null = null,
): TestHoldout {
  if (!(fraction > 0) || entries.some((e) => e.split === 'test')) return { entries: [...entries], description: null };
  if (fraction > MAX_TEST_HOLDOUT)
    throw new RangeError(`The test hold-out must be at most ${MAX_TEST_HOLDOUT} (got ${fraction}).`);
  const train = entries.filter((e) => e.split === 'train');
  const draw = drawGroups(train, classNames, fraction, mulberry32((seed ^ TEST_SALT) >>> 0), groupOf);
  const { chosen } = draw;
  const perClass = classNames.map((name, c) => `${name} ${draw.perClass[c]}`);
  if (chosen.size === 0) return { entries: [...entries], description: null };
  return {
    entries: entries.map((e) => (chosen.has(e) ? { ...e, split: 'test' as const } : e)),
    description: `Test: ${Math.round(fraction * 1000) / 10}% of train held out (${chosen.size} images${patientsText(draw)}: ${perClass.join(', ')}), stratified${draw.anyShared ? ', by patient' : ''}, seed ${seed}, because the archive has no test folder`,
  };
}

/**
 * Moves the images of train whose file name matches `pattern` to `test`, when the archive has no test images: a
 * hold-out chosen by what the names say (a series, a site, a range of patients) rather than at random, so the test
 * split can come from another source than training, as a real new site would. Whole patients move: a patient with
 * one matching image goes to test entirely. Every class must keep images in train.
 * @throws DatasetError when the pattern leaves a class without training images.
 */
export function holdOutTestByPattern(
  entries: readonly ImageEntry[],
  classNames: readonly string[],
  pattern: RegExp,
  groupOf: GroupKeyFn | null = null,
): TestHoldout {
  if (entries.some((e) => e.split === 'test')) return { entries: [...entries], description: null };
  const train = entries.filter((e) => e.split === 'train');
  const chosen = new Set<ImageEntry>();
  let patients = 0;
  let anyShared = false;
  for (const group of groupEntries(train, classNames, groupOf)) {
    if (!group.entries.some((e) => pattern.test(fileNameOf(e.path)))) continue;
    patients++;
    anyShared ||= group.entries.length > 1;
    for (const e of group.entries) chosen.add(e);
  }
  if (chosen.size === 0) return { entries: [...entries], description: null };
  const perClass = classNames.map((name) => train.filter((e) => e.className === name && chosen.has(e)).length);
  const emptied = classNames.filter((name, c) => perClass[c] === train.filter((e) => e.className === name).length);
  if (emptied.length > 0) {
    throw new DatasetError(
      `The Test hold-out pattern ${pattern.source} matches every training image of ${emptied.join(', ')}: nothing of ${emptied.length > 1 ? 'those classes' : 'that class'} would be left to train on. Narrow the pattern.`,
    );
  }
  const counts = classNames.map((name, c) => `${name} ${perClass[c]}`);
  return {
    entries: entries.map((e) => (chosen.has(e) ? { ...e, split: 'test' as const } : e)),
    description: `Test: the images of train whose file name matches ${pattern.source} (${chosen.size} images${anyShared ? ` of ${patients} patients` : ''}: ${counts.join(', ')}), whole patients, because the archive has no test folder`,
  };
}
