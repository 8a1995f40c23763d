import { mulberry32, shuffleInPlace } from '../core/random';
import { drawGroups, holdOutCount as shareCount, patientsText, type GroupKeyFn } from './groupSplit';
import type { ImageEntry, ValidationPlan } from './types';

/** A validation folder is used only if it holds at least this many images of every class. */
export const MIN_VALIDATION_PER_CLASS = 10;
/** Share of each class held out of train when the validation folder is too small, unless asked otherwise. */
export const HOLD_OUT_FRACTION = 0.1;
/** The largest share that may be asked for: train keeps at least half. */
export const MAX_HOLD_OUT_FRACTION = 0.5;

/** Images to hold out of a class of `n`: `fraction` of it (10%), at least one, but never the class's last training image. */
export function holdOutCount(n: number, fraction: number = HOLD_OUT_FRACTION): number {
  return shareCount(n, fraction);
}

export interface SplitPlan {
  train: ImageEntry[];
  validation: ImageEntry[];
  test: ImageEntry[];
  plan: ValidationPlan;
}

/**
 * Decides the validation images. The val folder is used when it holds at least
 * MIN_VALIDATION_PER_CLASS images of every class (the Kaggle chest X-ray val folder holds only 8 a
 * class, too few to read anything from). Otherwise its images join train, and a stratified
 * `holdOutFraction` (10%) of each class is held out with a seeded shuffle, whole patients at a time
 * when `groupOf` knows them (groupSplit.ts). Entries keep their input order in every list.
 */
export function planValidation(
  entries: readonly ImageEntry[],
  classNames: readonly string[],
  seed: number,
  holdOutFraction: number = HOLD_OUT_FRACTION,
  groupOf: GroupKeyFn | null = null,
): SplitPlan {
  if (!(holdOutFraction > 0 && holdOutFraction <= MAX_HOLD_OUT_FRACTION)) {
    throw new RangeError(
      `The validation share must be above 0 and at most ${MAX_HOLD_OUT_FRACTION} (got ${holdOutFraction}).`,
    );
  }
  const train = entries.filter((e) => e.split === 'train');
  const valFolder = entries.filter((e) => e.split === 'validation');
  const test = entries.filter((e) => e.split === 'test');

  const perClass = (list: readonly ImageEntry[], name: string) => list.filter((e) => e.className === name).length;
  // The folder is used only if train still has every class without it.
  const folderUsable = classNames.every(
    (name) => perClass(valFolder, name) >= MIN_VALIDATION_PER_CLASS && perClass(train, name) > 0,
  );
  if (folderUsable) {
    const breakdown = classNames.map((name) => `${name} ${perClass(valFolder, name)}`).join(', ');
    return {
      train,
      validation: valFolder,
      test,
      plan: { source: 'folder', description: `Validation: the val folder, ${valFolder.length} images (${breakdown})` },
    };
  }

  const pool = entries.filter((e) => e.split !== 'test');
  const draw = drawGroups(pool, classNames, holdOutFraction, mulberry32(seed), groupOf);
  const heldOut = draw.chosen;
  const grouped = draw.anyShared ? ', by patient' : '';
  const added = `so its ${valFolder.length} image${valFolder.length === 1 ? ' was' : 's were'} added to train`;
  const missing = classNames.find((name) => perClass(train, name) === 0);
  const why =
    valFolder.length === 0
      ? 'there is no val folder'
      : missing !== undefined
        ? `train has no ${missing} images, ${added}`
        : `the val folder has fewer than ${MIN_VALIDATION_PER_CLASS} images a class, ${added}`;
  return {
    train: pool.filter((e) => !heldOut.has(e)),
    validation: pool.filter((e) => heldOut.has(e)),
    test,
    plan: {
      source: 'held-out',
      description: `Validation: ${formatPercent(holdOutFraction)} of train held out (${heldOut.size} images${patientsText(draw)}), stratified${grouped}, seed ${seed} (${why})`,
    },
  };
}

/** 0.1 -> "10%", 0.125 -> "12.5%". */
export function formatPercent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}

/**
 * Picks up to `count` indices for a sample grid, as balanced across classes as the data allows:
 * classes take turns, each drawing from its own seeded shuffle, until `count` or every class runs out.
 */
export function pickSamples(labels: ArrayLike<number>, numClasses: number, count: number, rng: () => number): number[] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]]?.push(i);
  for (const list of byClass) shuffleInPlace(list, rng);
  const picked: number[] = [];
  for (let round = 0; picked.length < count; round++) {
    let any = false;
    for (const list of byClass) {
      if (round < list.length && picked.length < count) {
        picked.push(list[round]);
        any = true;
      }
    }
    if (!any) break;
  }
  return picked;
}
