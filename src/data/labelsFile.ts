/**
 * Labels from a table (CSV or TSV, parsed by papaparse): columns `path` or `file`, `label`, optional `patient` and
 * `split`. The table overrides folder labels: a file it names is labelled, split and grouped as its row says; an
 * image it does not name is left out and listed, as is a row that names no file (or several). A flat folder of DICOM
 * files with a spreadsheet beside it is a dataset this way.
 */
import Papa from 'papaparse';
import type { SplitName } from '../core/types';
import type { ArchiveEntry } from './archive';
import { DatasetError } from './errors';
import type { LabelsReport } from './types';
import {
  IMAGE_EXTENSIONS,
  classifyPath,
  extensionOf,
  hasControlCharacter,
  mayBeDicomName,
  pathSegments,
  splitOfFolder,
  type PathClass,
} from './paths';

export interface LabelRow {
  /** 1-based line of the file (the header is line 1). */
  line: number;
  /** What the row names, as normalised path segments joined by `/`; `byName`: a `file` column (file name only). */
  path: string;
  byName: boolean;
  label: string;
  patient: string | null;
  split: SplitName | null;
}

export interface LabelsTable {
  name: string;
  rows: LabelRow[];
  /** Rows that could not be read at all (no label, a bad split), with why. */
  problems: { line: number; path: string; reason: string }[];
}

/** The largest labels file read (a spreadsheet of a million rows is ~100 MB). */
export const MAX_LABELS_BYTES = 64 * 1024 ** 2;
const MAX_LABEL_LENGTH = 64;

/** Reads and parses a labels file. @throws DatasetError when it is not a usable table. */
export async function readLabelsFile(file: File): Promise<LabelsTable> {
  if (file.size > MAX_LABELS_BYTES)
    throw new DatasetError(`The labels file ${file.name} is over 64 MiB; a labels table is far smaller.`);
  return parseLabelsFile(await file.text(), file.name);
}

/** Parses a CSV or TSV labels table (the delimiter is detected). @throws DatasetError when a needed column is missing. */
export function parseLabelsFile(text: string, name: string): LabelsTable {
  const parsed = Papa.parse<Record<string, string>>(text.replace(/^\uFEFF/, ''), {
    header: true,
    skipEmptyLines: 'greedy',
    transformHeader: (header) => header.trim().toLowerCase(),
  });
  const fields = parsed.meta.fields ?? [];
  const pathColumn = fields.includes('path') ? 'path' : fields.includes('file') ? 'file' : null;
  if (!pathColumn || !fields.includes('label')) {
    throw new DatasetError(
      `The labels file ${name} needs a header row with the columns path (or file) and label, and may have patient and split; its columns are: ${fields.slice(0, 10).join(', ') || 'none'}.`,
    );
  }
  const rows: LabelRow[] = [];
  const problems: LabelsTable['problems'] = [];
  parsed.data.forEach((record, i) => {
    const line = i + 2;
    const rawPath = (record[pathColumn] ?? '').trim();
    const label = (record.label ?? '').trim();
    const path = pathSegments(rawPath).join('/');
    const problem = !path
      ? 'no path'
      : !label
        ? 'no label'
        : label.length > MAX_LABEL_LENGTH || hasControlCharacter(label)
          ? `the label is over ${MAX_LABEL_LENGTH} characters or holds control characters`
          : null;
    const splitText = (record.split ?? '').trim();
    const split = splitText ? splitOfFolder(splitText) : null;
    if (problem || (splitText && !split)) {
      problems.push({
        line,
        path: rawPath.slice(0, 200),
        reason: problem ?? `unknown split "${splitText.slice(0, 20)}" (train, val, validation or test)`,
      });
      return;
    }
    const patient = (record.patient ?? '').trim();
    rows.push({ line, path, byName: pathColumn === 'file', label, patient: patient || null, split });
  });
  return { name, rows, problems };
}

/** Skips a table cannot lift: these files are never images, whatever a row says. */
const ALWAYS_SKIPPED = new Set(['folder', 'unsafe-path', 'macos-resource', 'hidden-file']);

/**
 * Classifies `entries` by the table: a matched file takes its row's label and split (else its split folder, else
 * train); an image-like file no row names is skipped as 'unlabelled'. Also the rows' patients by path.
 */
export function matchLabels(
  entries: readonly ArchiveEntry[],
  table: LabelsTable,
): { classes: PathClass[]; patients: Map<string, string>; report: LabelsReport } {
  // Every tail of every path (c.dcm, b/c.dcm, a/b/c.dcm) leads to its entries: a row may name a file from any folder down.
  const byTail = new Map<string, number[]>();
  const byName = new Map<string, number[]>();
  const pathClasses = entries.map((entry) =>
    entry.directory ? ({ kind: 'skip', reason: 'folder' } as const) : classifyPath(entry.path),
  );
  entries.forEach((entry, i) => {
    if (entry.directory) return;
    const segments = pathSegments(entry.path);
    for (let k = 0; k < segments.length; k++) push(byTail, segments.slice(k).join('/'), i);
    push(byName, segments[segments.length - 1] ?? '', i);
  });
  const rowOf = new Map<number, LabelRow>();
  const unmatchedRows: LabelsReport['unmatchedRows'] = [...table.problems];
  for (const row of table.rows) {
    const found = (row.byName ? byName : byTail).get(row.path) ?? [];
    if (found.length === 0) unmatchedRows.push({ line: row.line, path: row.path, reason: 'no such file' });
    else if (found.length > 1)
      unmatchedRows.push({
        line: row.line,
        path: row.path,
        reason: `names ${found.length} files; give more of the path`,
      });
    else if (rowOf.has(found[0]))
      unmatchedRows.push({
        line: row.line,
        path: row.path,
        reason: `the file already has a row (line ${rowOf.get(found[0])!.line})`,
      });
    else rowOf.set(found[0], row);
  }
  const patients = new Map<string, string>();
  const unmatchedFiles: string[] = [];
  const classes = entries.map((entry, i): PathClass => {
    const byPath = pathClasses[i];
    if (byPath.kind === 'skip' && ALWAYS_SKIPPED.has(byPath.reason)) return byPath;
    const row = rowOf.get(i);
    const segments = pathSegments(entry.path);
    const fileName = segments[segments.length - 1];
    if (!row) {
      if (!IMAGE_EXTENSIONS.includes(extensionOf(fileName)) && !mayBeDicomName(fileName)) return byPath;
      unmatchedFiles.push(entry.path);
      return { kind: 'skip', reason: 'unlabelled' };
    }
    if (row.patient) patients.set(entry.path, row.patient);
    const folderSplit =
      segments
        .slice(0, -1)
        .reverse()
        .map(splitOfFolder)
        .find((split) => split !== null) ?? null;
    return { kind: 'image', split: row.split ?? folderSplit ?? 'train', className: row.label, fileName };
  });
  unmatchedRows.sort((a, b) => a.line - b.line);
  return {
    classes,
    patients,
    report: {
      name: table.name,
      rows: table.rows.length + table.problems.length,
      matched: rowOf.size,
      unmatchedRows,
      unmatchedFiles: unmatchedFiles.sort(),
    },
  };
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
