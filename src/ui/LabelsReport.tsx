import type { LabelsReport as Report } from '../data/types';

const SHOWN = 100;

/** How a labels file matched the files: counts, then the rows that named no file and the images no row named. */
export function LabelsReport({ report }: { report: Report }) {
  return (
    <div data-testid="labels-report">
      <p>
        Labels file <code>{report.name}</code>: {report.matched} of {report.rows} rows matched a file; {report.unmatchedRows.length} row
        {report.unmatchedRows.length === 1 ? '' : 's'} and {report.unmatchedFiles.length} image file{report.unmatchedFiles.length === 1 ? '' : 's'}{' '}
        unmatched.
      </p>
      {report.unmatchedRows.length > 0 && (
        <details>
          <summary>Unmatched rows ({report.unmatchedRows.length})</summary>
          <ul aria-label="Unmatched rows">
            {report.unmatchedRows.slice(0, SHOWN).map((row) => (
              <li key={row.line}>
                line {row.line}: <code>{row.path}</code> — {row.reason}
              </li>
            ))}
            {report.unmatchedRows.length > SHOWN && <li>… and {report.unmatchedRows.length - SHOWN} more</li>}
          </ul>
        </details>
      )}
      {report.unmatchedFiles.length > 0 && (
        <details>
          <summary>Unmatched files ({report.unmatchedFiles.length})</summary>
          <ul aria-label="Unmatched files">
            {report.unmatchedFiles.slice(0, SHOWN).map((path) => (
              <li key={path}>
                <code>{path}</code>
              </li>
            ))}
            {report.unmatchedFiles.length > SHOWN && <li>… and {report.unmatchedFiles.length - SHOWN} more</li>}
          </ul>
        </details>
      )}
    </div>
  );
}
