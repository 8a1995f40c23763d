/**
 * Who an image shows, from its file name, so that a patient's images never end up on both sides of a
 * split (an image-level split puts siblings of a validation image in training, and validation then
 * measures memory). The chest X-ray dataset's names carry the patient:
 *   person1234_bacteria_5678.jpeg, person12_virus_34.jpeg   -> person1234, person12
 *   IM-0115-0001.jpeg, IM-0115-0001-0002.jpeg                -> IM-0115
 *   NORMAL2-IM-0123-0001.jpeg                                -> NORMAL2-IM-0123
 * `person1234_bacteria` and `person1234_virus` are taken as ONE patient: the number names the person
 * whatever the finding, and merging two keys that might be two people only makes a split more careful,
 * while splitting one person in two would leak. `IM-0115` and `NORMAL2-IM-0115` stay apart: they are
 * numbered in different series.
 */
import { checkSettingValue } from '../core/settings';
import type { GroupBy } from '../core/types';

/** How images are grouped into patients (the `Group by` and `Patient pattern` settings). */
export interface Grouping {
  groupBy: GroupBy;
  /** Used when groupBy is `regex`: the first capture group (else the whole match) of the file name is the key. */
  groupPattern: string;
}

/** The file name alone: the folders name the split and class, never the patient. */
export function fileNameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

const PERSON = /^person(\d+)_/i;
// NORMAL2-IM-0123-0001 (a second series of normals) or IM-0115-0001: the series, IM- and its number.
const SERIES = /^((?:normal\d*-)?)im-(\d+)-\d/i;

/** The patient of a file name of the chest X-ray dataset's shapes; null for any other name. */
export function patientKey(path: string): string | null {
  const name = fileNameOf(path);
  const person = PERSON.exec(name);
  if (person) return `person${Number(person[1])}`;
  const series = SERIES.exec(name);
  // Upper case as the dataset writes it, so `im-0115-1.JPG` and `IM-0115-2.jpeg` are one patient.
  if (series) return `${series[1].toUpperCase()}IM-${series[2]}`;
  return null;
}

/** The key a custom pattern gives a file name: its first capture group, else the whole match; null when it does not match or matches nothing. */
export function patternKey(pattern: RegExp, path: string): string | null {
  const match = pattern.exec(fileNameOf(path));
  if (!match) return null;
  const key = match.length > 1 ? match[1] : match[0];
  return key ? key : null;
}

/** A function from an image's path to its patient key (null: unknown, the image is its own group); null for `none`. */
export function groupKeyFunction(grouping: Grouping): ((path: string) => string | null) | null {
  switch (grouping.groupBy) {
    case 'none':
      return null;
    case 'patient':
      return patientKey;
    case 'regex': {
      const problem = checkSettingValue('groupPattern', grouping.groupPattern);
      if (problem) throw new RangeError(problem);
      const pattern = new RegExp(grouping.groupPattern);
      return (path) => patternKey(pattern, path);
    }
  }
}

/**
 * Group ids for a list of paths: images with one key share an id; an image without a key gets an id of
 * its own. Ids are numbered in the order keys first appear. Null when no image has a key (patients unknown).
 */
export function groupIds(
  paths: readonly string[],
  keyOf: ((path: string) => string | null) | null,
): { ids: Uint32Array; keys: (string | null)[] } | null {
  if (!keyOf) return null;
  const keys = paths.map(keyOf);
  if (keys.every((key) => key === null)) return null;
  const idOf = new Map<string, number>();
  let next = 0;
  const ids = Uint32Array.from(keys, (key) => {
    if (key === null) return next++;
    let id = idOf.get(key);
    if (id === undefined) idOf.set(key, (id = next++));
    return id;
  });
  return { ids, keys };
}
