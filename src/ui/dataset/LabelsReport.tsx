import type { ReactNode } from 'react';
import type { LabelsReport as Report } from '../../data/types';
import { FilePath } from '../common/FilePath';

const SHOWN = 100;

/** How a labels file matched the files: counts, then the rows that named no file and the images no row named. */
export function LabelsReport({ report }: { report: Report }) {
  const { unmatchedRows: rows, unmatchedFiles: files } = report;
  return (
    <div data-testid="labels-report">
      <p>
        Labels file <code>{report.name}</code>: {report.matched} of {report.rows} rows matched a file; {rows.length} row
        {rows.length === 1 ? '' : 's'} and {files.length} image file{files.length === 1 ? '' : 's'} unmatched.
      </p>
      <Unmatched
        name="Unmatched rows"
        items={rows.map((row) => [
          String(row.line),
          <>
            line {row.line}:{' '}
            <code>
              <FilePath path={row.path} />
            </code>{' '}
            — {row.reason}
          </>,
        ])}
      />
      <Unmatched
        name="Unmatched files"
        items={files.map((path) => [
          path,
          <code key={path}>
            <FilePath path={path} />
          </code>,
        ])}
      />
    </div>
  );
}

/** A closed list of at most SHOWN items, named `name`; nothing when empty. */
function Unmatched({ name, items }: { name: string; items: [string, ReactNode][] }) {
  if (items.length === 0) return null;
  return (
    <details>
      <summary>
        {name} ({items.length})
      </summary>
      <ul aria-label={name}>
        {items.slice(0, SHOWN).map(([key, item]) => (
          <li key={key}>{item}</li>
        ))}
        {items.length > SHOWN && <li>… and {items.length - SHOWN} more</li>}
      </ul>
    </details>
  );
}
