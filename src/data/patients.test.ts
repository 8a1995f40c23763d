import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../core/settings';
import { fileNameOf, groupIds, groupKeyFunction, patientKey, patternKey } from './patients';

describe("patientKey: the patient in the chest X-ray dataset's file names", () => {
  it.each([
    ['chest_xray/train/PNEUMONIA/person1234_bacteria_5678.jpeg', 'person1234'],
    ['chest_xray/train/PNEUMONIA/person12_virus_34.jpeg', 'person12'],
    ['person1_virus_1_1.jpeg', 'person1'],
    ['PERSON0012_Bacteria_9.JPG', 'person12'],
    ['chest_xray/train/NORMAL/IM-0115-0001.jpeg', 'IM-0115'],
    ['chest_xray/test/NORMAL/IM-0115-0001-0002.jpeg', 'IM-0115'],
    ['chest_xray/train/NORMAL/NORMAL2-IM-0123-0001.jpeg', 'NORMAL2-IM-0123'],
    ['a/b/normal2-im-0123-0001-0001.jpeg', 'NORMAL2-IM-0123'],
    ['im-0115-0002.png', 'IM-0115'],
  ])('%s -> %s', (path, key) => expect(patientKey(path)).toBe(key));

  it('takes personN as the patient whatever the finding (bacteria and virus are one person)', () => {
    expect(patientKey('person7_bacteria_1.jpeg')).toBe(patientKey('person7_virus_2.jpeg'));
    expect(patientKey('IM-0115-0001.jpeg')).not.toBe(patientKey('NORMAL2-IM-0115-0001.jpeg'));
  });

  it.each([
    'normal-001.png',
    'chest_xray/train/person1234_bacteria_5678/scan.jpeg',
    'persona_1.jpeg',
    'person_1_bacteria.jpeg',
    'IM-.jpeg',
    'IM-0115.jpeg',
    'XIM-0115-0001.jpeg',
    '',
  ])('gives no patient to an odd name: %s', (path) => expect(patientKey(path)).toBeNull());

  it('reads the file name only', () => {
    expect(fileNameOf('a/person1_x/IM-0001-0001.jpeg')).toBe('IM-0001-0001.jpeg');
    expect(fileNameOf('IM-0001-0001.jpeg')).toBe('IM-0001-0001.jpeg');
  });
});

describe('a custom pattern', () => {
  it('takes the first capture group, else the whole match, of the file name', () => {
    expect(patternKey(/^(pt\d+)_/, 'data/train/A/pt42_scan3.png')).toBe('pt42');
    expect(patternKey(/^pt\d+/, 'data/train/A/pt42_scan3.png')).toBe('pt42');
    expect(patternKey(/^pt\d+/, 'data/pt42/A/scan3.png')).toBeNull();
    expect(patternKey(/^(x?)/, 'scan.png')).toBeNull(); // an empty match names nobody
  });

  it('is refused when it is no regular expression', () => {
    expect(() => groupKeyFunction({ groupBy: 'regex', groupPattern: '(pt' })).toThrow(
      /Patient pattern must be a valid regular expression/,
    );
    const keyOf = groupKeyFunction({ groupBy: 'regex', groupPattern: '^(\\w+?)-' })!;
    expect(keyOf('a/b/case7-left.png')).toBe('case7');
  });

  it('defaults to the built-in shapes as one expression', () => {
    const keyOf = groupKeyFunction({ groupBy: 'regex', groupPattern: DEFAULT_SETTINGS.groupPattern })!;
    expect(
      ['person12_virus_3.jpeg', 'IM-0115-0001.jpeg', 'NORMAL2-IM-0123-0001.jpeg', 'normal-001.png'].map(keyOf),
    ).toEqual(['person12', 'IM-0115', 'NORMAL2-IM-0123', null]);
  });
});

describe('groupIds', () => {
  it('numbers patients in order of appearance; an image without a key is alone', () => {
    const paths = [
      'IM-0001-0001.jpeg',
      'odd.png',
      'person3_virus_1.jpeg',
      'IM-0001-0002.jpeg',
      'odd2.png',
      'person3_bacteria_2.jpeg',
    ];
    const found = groupIds(paths, patientKey)!;
    expect([...found.ids]).toEqual([0, 1, 2, 0, 3, 2]);
    expect(found.keys).toEqual(['IM-0001', null, 'person3', 'IM-0001', null, 'person3']);
  });

  it('is null when grouping is off or no name has a patient', () => {
    expect(groupIds(['IM-0001-0001.jpeg'], groupKeyFunction({ groupBy: 'none', groupPattern: '' }))).toBeNull();
    expect(groupIds(['a.png', 'b.png'], patientKey)).toBeNull();
  });
});
