/**
 * Leave-one-source-out folds for `bench:accuracy --folds`: what the chest X-ray archive's file names reveal about
 * where and when an image was taken. Its normals come in two series (`IM-…` and `NORMAL2-IM-…`); its pneumonia
 * patients are numbered (`person123_…`), and the numbers stand in for acquisition time. Each fold holds out one
 * normal series and one range of patient numbers, whole, as the test split (the app's `testre`); training sees the
 * other series and the other patients only. Folds A and B hold out disjoint sources; C and D cross them, so that
 * a lever cannot win by learning one pairing of series and era.
 *
 * Counts in chest_xray_train_224.zip (NORMAL / PNEUMONIA held out): A 744 / 760, B 597 / 997, C 744 / 997,
 * D 597 / 760; sourceFolds.test.ts checks them against the archive's names when it is there.
 */

export interface SourceFold {
  /** A letter: the tables' name for it. */
  name: string;
  /** The app's `Test hold-out pattern` (`testre`): the file names held out as the test split. */
  testPattern: string;
  /** What it holds out, in words. */
  description: string;
}

const NORMAL2 = 'NORMAL2-';
const IM = 'IM-';
const PERSONS_FROM_1400 = 'person1[4-9]\\d\\d_';
const PERSONS_BELOW_400 = 'person(?:[1-9]|[1-9]\\d|[1-3]\\d\\d)_';

const fold = (name: string, series: string, persons: string, description: string): SourceFold => ({
  name,
  testPattern: `^(?:${series}|${persons})`,
  description,
});

export const SOURCE_FOLDS: readonly SourceFold[] = [
  fold('A', NORMAL2, PERSONS_FROM_1400, 'the NORMAL2- normals and pneumonia patients 1400 and above'),
  fold('B', IM, PERSONS_BELOW_400, 'the IM- normals and pneumonia patients below 400'),
  fold('C', NORMAL2, PERSONS_BELOW_400, 'the NORMAL2- normals and pneumonia patients below 400'),
  fold('D', IM, PERSONS_FROM_1400, 'the IM- normals and pneumonia patients 1400 and above'),
];

/** `A,B`, `all`, or `ABCD`: the folds named, in the table's order; throws naming the known ones otherwise. */
export function parseFolds(list: string): SourceFold[] {
  const text = list.trim().toUpperCase();
  if (text === 'ALL') return [...SOURCE_FOLDS];
  const names = text.includes(',') ? text.split(',').map((s) => s.trim()) : [...text];
  const unknown = names.filter((n) => !SOURCE_FOLDS.some((f) => f.name === n));
  if (names.length === 0 || unknown.length > 0)
    throw new Error(
      `--folds takes fold names (${SOURCE_FOLDS.map((f) => f.name).join(', ')}) or all; unknown: ${unknown.join(', ') || '(none given)'}`,
    );
  return SOURCE_FOLDS.filter((f) => names.includes(f.name));
}

/** Which fold holds out a file (by its base name), or null when training always sees it. */
export function foldsHolding(fileName: string): string[] {
  return SOURCE_FOLDS.filter((f) => new RegExp(f.testPattern).test(fileName)).map((f) => f.name);
}
