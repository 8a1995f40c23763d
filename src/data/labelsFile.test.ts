import { describe, expect, it } from 'vitest';
import type { ArchiveEntry } from './archive';
import { DatasetError } from './errors';
import { matchLabels, parseLabelsFile } from './labelsFile';
import { loadDataset, type DecodeFn } from './loadDataset';
import { hashPatientId } from './dicom/patientHash';

const entry = (path: string, bytes: Uint8Array = new Uint8Array([1])): ArchiveEntry => ({
  path,
  directory: false,
  size: bytes.length,
  read: () => Promise.resolve(new Blob([bytes as Uint8Array<ArrayBuffer>])),
});

describe('parseLabelsFile', () => {
  it('reads CSV and TSV, path or file, with optional patient and split; quoted fields too', () => {
    const csv = parseLabelsFile(
      '\uFEFFPath,Label,Patient,Split\n"a/x, 1.dcm",NORMAL,p1,val\nb.dcm,PNEUMONIA,,\n',
      'l.csv',
    );
    expect(csv.rows).toEqual([
      { line: 2, path: 'a/x, 1.dcm', byName: false, label: 'NORMAL', patient: 'p1', split: 'validation' },
      { line: 3, path: 'b.dcm', byName: false, label: 'PNEUMONIA', patient: null, split: null },
    ]);
    const tsv = parseLabelsFile('file\tlabel\nc.dcm\tA\n', 'l.tsv');
    expect(tsv.rows).toEqual([{ line: 2, path: 'c.dcm', byName: true, label: 'A', patient: null, split: null }]);
  });

  it('lists rows without a label or with an unknown split, and refuses a table without the columns', () => {
    const table = parseLabelsFile('path,label,split\nx.dcm,,\ny.dcm,A,holdout\n', 'l.csv');
    expect(table.rows).toEqual([]);
    expect(table.problems).toEqual([
      { line: 2, path: 'x.dcm', reason: 'no label' },
      { line: 3, path: 'y.dcm', reason: 'unknown split "holdout" (train, val, validation or test)' },
    ]);
    expect(() => parseLabelsFile('name,class\nx,A\n', 'bad.csv')).toThrow(DatasetError);
    expect(() => parseLabelsFile('name,class\nx,A\n', 'bad.csv')).toThrow(
      /needs a header row with the columns path \(or file\) and label/,
    );
  });
});

describe('matchLabels', () => {
  it('labels what it names whatever the folders say, and lists unmatched rows and files', () => {
    const entries = [
      'dicom/1.dcm',
      'dicom/2.dcm',
      'dicom/train/3.dcm',
      'dicom/NORMAL/4.dcm',
      'other/2.dcm',
      'README.txt',
    ].map((p) => entry(p));
    const table = parseLabelsFile(
      'path,label,patient\n1.dcm,A,p1\ndicom/2.dcm,B,\n3.dcm,B,p1\n2.dcm,A,\nmissing.dcm,A,\n1.dcm,B,\n',
      'l.csv',
    );
    const { classes, patients, report } = matchLabels(entries, table);
    expect(classes).toEqual([
      { kind: 'image', split: 'train', className: 'A', fileName: '1.dcm' },
      { kind: 'image', split: 'train', className: 'B', fileName: '2.dcm' },
      { kind: 'image', split: 'train', className: 'B', fileName: '3.dcm' },
      { kind: 'skip', reason: 'unlabelled' },
      { kind: 'skip', reason: 'unlabelled' },
      { kind: 'skip', reason: 'not-an-image' },
    ]);
    expect([...patients]).toEqual([
      ['dicom/1.dcm', 'p1'],
      ['dicom/train/3.dcm', 'p1'],
    ]);
    expect(report).toEqual({
      name: 'l.csv',
      rows: 6,
      matched: 3,
      unmatchedRows: [
        { line: 5, path: '2.dcm', reason: 'names 2 files; give more of the path' },
        { line: 6, path: 'missing.dcm', reason: 'no such file' },
        { line: 7, path: '1.dcm', reason: 'the file already has a row (line 2)' },
      ],
      unmatchedFiles: ['dicom/NORMAL/4.dcm', 'other/2.dcm'],
    });
  });
});

describe('loadDataset with a labels file', () => {
  it('loads a flat folder by its table: labels, splits and patients (hashed) from the rows', async () => {
    // One byte a file: its grey value, so each image can be told apart.
    const files = Array.from({ length: 24 }, (_, i) =>
      entry(`flat/${String(i).padStart(2, '0')}`, new Uint8Array([i * 10])),
    );
    const decode: DecodeFn = async (blob, size) => ({
      pixels: new Uint8Array(size * size).fill(new Uint8Array(await blob.arrayBuffer())[0]),
      sourceWidth: 1,
      sourceHeight: 1,
    });
    const lines = files.map(
      (f, i) => `${f.path},${i % 2 ? 'PNEUMONIA' : 'NORMAL'},P${i >> 1},${i >= 20 ? 'test' : ''}`,
    );
    const labels = parseLabelsFile(['path,label,patient,split', ...lines, 'flat/99,NORMAL,,'].join('\n'), 'labels.csv');
    const data = await loadDataset(files, { size: 2, decode, labels });
    expect(data.classNames).toEqual(['NORMAL', 'PNEUMONIA']);
    expect(data.counts.test).toEqual({ NORMAL: 2, PNEUMONIA: 2 });
    expect(data.counts.train).toEqual({ NORMAL: 10, PNEUMONIA: 10 });
    expect(data.labels).toEqual({
      name: 'labels.csv',
      rows: 25,
      matched: 24,
      unmatchedRows: [{ line: 26, path: 'flat/99', reason: 'no such file' }],
      unmatchedFiles: [],
    });
    // 12 patients of two images each; the ids are hashed, never kept in clear.
    expect(data.health.patients?.total).toBe(12);
    const groups = data.manifest!.map((row) => row.group);
    expect(groups).toContain(await hashPatientId('P0'));
    expect(groups.some((g) => g?.startsWith('P'))).toBe(false);
  });
});
