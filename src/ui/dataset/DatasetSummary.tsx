import { memo } from 'react';
import * as tfvis from '@tensorflow/tfjs-vis';
import type { SkipReason, SkippedEntry, SplitCounts } from '../../data/types';
import { SPLIT_NAMES, type SplitName } from '../../core/types';
import type { DatasetView } from './useDataset';
import { classCountsText } from '../common/chartText';
import { describeLoadStats } from './loadFigures';
import { VisFigure } from '../common/VisFigure';
import { dicomSummaryText } from './dicomText';
import { LabelsReport } from './LabelsReport';
import { ScrollingTable } from '../common/ScrollingTable';
import { FilePath } from '../common/FilePath';

const REASON_TEXT: Record<SkipReason, string> = {
  folder: 'folder entries',
  'macos-resource': 'macOS resource files (__MACOSX)',
  'hidden-file': 'hidden files (.DS_Store and other dot-files)',
  'not-an-image': 'not images',
  'no-class-folder': 'images outside a class folder',
  duplicate: 'duplicates (same split, class and file name)',
  'unsafe-path': 'unsafe paths',
  'decode-failed': 'images that could not be decoded',
  'too-large': 'entries too large to be images (over the size cap, or an absurd compression ratio)',
  'dicom-unusable': 'DICOM files that cannot be used',
  unlabelled: 'images the labels file does not name',
};

/** The `Dataset summary` table (images per split folder and class), the skipped entries, and the count plots. */
export const DatasetSummary = memo(function DatasetSummary({ view }: { view: DatasetView }) {
  const { classNames, counts } = view;
  const total = (split: keyof SplitCounts) => classNames.reduce((sum, c) => sum + (counts[split][c] ?? 0), 0);
  // Known when file names name patients (data/patients.ts); the column and the counts below appear only then.
  const patients = view.health.patients;
  const ofPatients = (split: SplitName) => (patients ? ` (${patients.bySplit[split]} patients)` : '');
  return (
    <section className="panel" aria-labelledby="summary-heading">
      <h2 id="summary-heading">2. What is in it</h2>
      <p>
        <strong>{view.source.kind === 'demo' ? 'Demo dataset (synthetic)' : view.source.name}</strong>:{' '}
        {classNames.length} classes, decoded to {view.size} × {view.size} grey.
      </p>
      <ScrollingTable label="Dataset summary" className="counts">
        <caption>Images per split folder and class{patients ? ', and patients' : ''} (of those decoded)</caption>
        <thead>
          <tr>
            <th scope="col">split</th>
            {classNames.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
            <th scope="col">total</th>
            {patients && <th scope="col">patients</th>}
          </tr>
        </thead>
        <tbody>
          {SPLIT_NAMES.map((split) => (
            <tr key={split}>
              <th scope="row">{split}</th>
              {classNames.map((c) => (
                <td key={c}>{counts[split][c] ?? 0}</td>
              ))}
              <td>{total(split)}</td>
              {patients && <td>{patients.byFolder[split]}</td>}
            </tr>
          ))}
        </tbody>
      </ScrollingTable>
      <p data-testid="validation-source">
        {withPeriod(view.validationPlan.description)} Training uses {view.used.train} images{ofPatients('train')},
        validation {view.used.validation}
        {ofPatients('validation')}
        {view.used.test > 0
          ? `, test ${view.used.test}${ofPatients('test')}`
          : ', and there is no test split: the final evaluation uses validation'}
        .
      </p>
      {view.source.kind !== 'demo' && (
        <p
          data-testid="load-stats"
          data-list-ms={view.stats.listMs.toFixed(0)}
          data-decode-ms={view.stats.decodeMs.toFixed(0)}
          data-read-ms={view.stats.readMs.toFixed(0)}
          data-entries={view.stats.entries}
          data-images={view.stats.images}
          data-bytes={view.stats.bytesRead}
          data-source-pixels={view.stats.sourcePixels}
        >
          {describeLoadStats(view.stats)}
        </p>
      )}
      {view.testPlan && <p data-testid="test-source">{withPeriod(view.testPlan)}</p>}
      {view.dicom && <p data-testid="dicom-summary">{dicomSummaryText(view.dicom)}</p>}
      {view.labels && <LabelsReport report={view.labels} />}
      <SkippedList skipped={view.skipped} />
      <div className="charts">
        {SPLIT_NAMES.filter((split) => total(split) > 0).map((split) => (
          <VisFigure
            key={split}
            label={`Class counts: ${split}`}
            version={`${split}:${classNames.map((c) => counts[split][c]).join(',')}`}
            draw={(el) =>
              tfvis.render.barchart(
                el,
                // tfjs-vis types `index` as a number, but draws it as an ordinal axis: class names work.
                classNames.map((c) => ({ index: c, value: counts[split][c] ?? 0 })) as unknown as {
                  index: number;
                  value: number;
                }[],
                { width: 260, height: 200, xLabel: 'class', yLabel: 'images', fontSize: 12 },
              )
            }
          >
            <p className="chart__numbers">{classCountsText(classNames, counts[split])}</p>
          </VisFigure>
        ))}
      </div>
    </section>
  );
});

function SkippedList({ skipped: entries }: { skipped: SkippedEntry[] }) {
  // A zip's folder entries are its structure, not files left out: listing them only worries.
  const skipped = entries.filter((s) => s.reason !== 'folder');
  if (skipped.length === 0) return <p>Nothing was skipped.</p>;
  const byReason = new Map<SkipReason, SkippedEntry[]>();
  for (const s of skipped) {
    const list = byReason.get(s.reason);
    if (list) list.push(s);
    else byReason.set(s.reason, [s]);
  }
  return (
    <details className="skipped">
      <summary>
        Skipped {skipped.length} entr{skipped.length === 1 ? 'y' : 'ies'}:{' '}
        {[...byReason].map(([reason, list]) => `${list.length} ${REASON_TEXT[reason]}`).join(', ')}
      </summary>
      <ul aria-label="Skipped entries">
        {[...byReason].map(([reason, list]) => (
          <li key={reason}>
            {REASON_TEXT[reason]} ({list.length}):
            <ul>
              {list.slice(0, 50).map((s) => (
                <li key={s.path}>
                  <code>
                    <FilePath path={s.path} />
                  </code>
                  {s.detail ? ` — ${s.detail}` : ''}
                </li>
              ))}
              {list.length > 50 && <li>… and {list.length - 50} more</li>}
            </ul>
          </li>
        ))}
      </ul>
    </details>
  );
}

function withPeriod(sentence: string): string {
  return /[.!?]$/.test(sentence.trim()) ? sentence : `${sentence}.`;
}
