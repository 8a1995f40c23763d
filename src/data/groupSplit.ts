/**
 * Seeded, class-stratified hold-outs that never split a group (a patient): the validation hold-out
 * (splits.ts) and the test hold-out (testHoldout.ts) both draw with it. Without groups every image is
 * its own group and the draw is exactly the image-level one the page made before patients were known
 * (same seed, same images), so `Group by: none` reproduces earlier runs.
 */
import { shuffleInPlace } from '../core/random';
import type { ImageEntry } from './types';

/** An image's patient key, or null when unknown (the image is then a group of its own). */
export type GroupKeyFn = (path: string) => string | null;

/** Images to hold out of a class of `n`: the share rounded, at least one, never the class's last image. */
export function holdOutCount(n: number, fraction: number): number {
  if (n < 2 || !(fraction > 0)) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
}

interface Group {
  entries: ImageEntry[];
  /** The class most of its images have (ties: the first in classNames): the class it is drawn with. */
  classIndex: number;
}

/** Groups of `entries` by key, in the order their first image appears; an image without a key is alone. */
export function groupEntries(
  entries: readonly ImageEntry[],
  classNames: readonly string[],
  keyOf: GroupKeyFn | null,
): Group[] {
  const byKey = new Map<string, ImageEntry[]>();
  const lists: ImageEntry[][] = [];
  for (const entry of entries) {
    const key = keyOf?.(entry.path) ?? null;
    const list = key === null ? undefined : byKey.get(key);
    if (list) list.push(entry);
    else {
      const created = [entry];
      lists.push(created);
      if (key !== null) byKey.set(key, created);
    }
  }
  return lists.map((list) => {
    const votes = classNames.map((name) => list.filter((e) => e.className === name).length);
    return { entries: list, classIndex: votes.indexOf(Math.max(...votes)) };
  });
}

export interface GroupDraw {
  chosen: Set<ImageEntry>;
  /** Groups drawn, and groups in all (to say "N patients" only when some group holds several images). */
  groups: number;
  anyShared: boolean;
  /** Images drawn of each class, in classNames order. */
  perClass: number[];
}

/**
 * Draws whole groups of each class (by majority), classes in `classNames` order, each from its own seeded
 * shuffle of `rng`'s stream, until the class's images drawn come nearest `fraction` of its images. A group
 * that would overshoot by more than it helps is passed over for a smaller one; one group at least is
 * drawn when the class has two, and never its last one, so train keeps every class.
 */
export function drawGroups(
  entries: readonly ImageEntry[],
  classNames: readonly string[],
  fraction: number,
  rng: () => number,
  keyOf: GroupKeyFn | null,
): GroupDraw {
  const groups = groupEntries(entries, classNames, keyOf);
  const chosen = new Set<ImageEntry>();
  const perClass = classNames.map(() => 0);
  let drawn = 0;
  classNames.forEach((_, c) => {
    const ofClass = groups.filter((g) => g.classIndex === c);
    const images = entries.filter((e) => e.className === classNames[c]).length;
    const target = holdOutCount(images, fraction);
    if (target === 0 || ofClass.length < 2) return;
    const order = shuffleInPlace([...ofClass], rng);
    const picked: Group[] = [];
    let count = 0;
    for (const group of order) {
      if (count >= target || picked.length === ofClass.length - 1) break;
      const size = group.entries.length;
      if (Math.abs(count + size - target) < Math.abs(count - target)) {
        picked.push(group);
        count += size;
      }
    }
    // Every group overshoots alone: the smallest (first drawn among equals) rather than none.
    if (picked.length === 0)
      picked.push(order.reduce((best, g) => (g.entries.length < best.entries.length ? g : best)));
    for (const group of picked) for (const entry of group.entries) chosen.add(entry);
    drawn += picked.length;
  });
  for (const entry of chosen) perClass[classNames.indexOf(entry.className)] += 1;
  return { chosen, groups: drawn, anyShared: groups.some((g) => g.entries.length > 1), perClass };
}

/** " of 12 patients" when groups hold several images, else "" (each image is its own). */
export function patientsText(draw: GroupDraw): string {
  return draw.anyShared ? ` of ${draw.groups} patient${draw.groups === 1 ? '' : 's'}` : '';
}
