import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listZip } from '../src/data/archive';
import { SOURCE_FOLDS, foldsHolding, parseFolds } from './sourceFolds';

const ARCHIVE = '../shared/data/chest_xray_train_224.zip';

describe('source folds', () => {
  it('hold out a normal series and a range of patient numbers', () => {
    expect(foldsHolding('NORMAL2-IM-1018-0001.jpeg')).toEqual(['A', 'C']);
    expect(foldsHolding('IM-0640-0001-0001.jpeg')).toEqual(['B', 'D']);
    expect(foldsHolding('person1400_bacteria_3575.jpeg')).toEqual(['A', 'D']);
    expect(foldsHolding('person1945_virus_1.jpeg')).toEqual(['A', 'D']);
    expect(foldsHolding('person399_virus_1.jpeg')).toEqual(['B', 'C']);
    expect(foldsHolding('person1_bacteria_1.jpeg')).toEqual(['B', 'C']);
    // Between the ranges, and numbers that only start like one: training sees them in every fold.
    expect(foldsHolding('person400_bacteria_1.jpeg')).toEqual([]);
    expect(foldsHolding('person1399_bacteria_1.jpeg')).toEqual([]);
    expect(foldsHolding('person14_virus_44.jpeg')).toEqual(['B', 'C']);
    expect(foldsHolding('person140_virus_44.jpeg')).toEqual(['B', 'C']);
  });

  it('parses lists of names', () => {
    expect(parseFolds('all').map((f) => f.name)).toEqual(['A', 'B', 'C', 'D']);
    expect(parseFolds('a,b').map((f) => f.name)).toEqual(['A', 'B']);
    expect(parseFolds('BD').map((f) => f.name)).toEqual(['B', 'D']);
    expect(() => parseFolds('A,E')).toThrow(/unknown: E/);
    expect(() => parseFolds('')).toThrow(/fold names/);
  });

  // The real archive is not part of the project: checked where it is.
  it.skipIf(!existsSync(ARCHIVE))('leaves both classes on both sides of every fold of the archive', async () => {
    const { readFile } = await import('node:fs/promises');
    const entries = await listZip(new Blob([await readFile(ARCHIVE)]));
    const images = entries.filter((e) => /\.jpe?g$/i.test(e.path)).map((e) => e.path);
    const counts = SOURCE_FOLDS.map((fold) => {
      const re = new RegExp(fold.testPattern);
      const held = (cls: string) => images.filter((p) => p.includes(`/${cls}/`) && re.test(p.split('/').pop()!)).length;
      return [fold.name, held('NORMAL'), held('PNEUMONIA')];
    });
    expect(counts).toEqual([
      ['A', 744, 760],
      ['B', 597, 997],
      ['C', 744, 997],
      ['D', 597, 760],
    ]);
  });
});
