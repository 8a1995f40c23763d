import { memo } from 'react';
import type { GroupBy } from '../../core/types';
import type { DatasetHealth as Health } from '../../data/health';
import { healthFindings } from './healthText';

interface Props {
  health: Health;
  classNames: readonly string[];
  groupBy: GroupBy;
}

/**
 * The `Dataset health` region, shown once a dataset is loaded and before training: patients, leaks across
 * split folders, duplicates, class balance, stored sizes and what besides the disease tells the classes apart, in words (healthText.ts). Leaks are marked.
 */
export const DatasetHealth = memo(function DatasetHealth({ health, classNames, groupBy }: Props) {
  const findings = healthFindings(health, classNames, groupBy);
  const leaks = findings.filter((f) => f.warning).length;
  return (
    <section className="panel" aria-labelledby="health-heading">
      <h2 id="health-heading">Dataset health</h2>
      <p>
        {leaks > 0
          ? `${leaks} leak${leaks === 1 ? '' : 's'} found: figures measured across them overstate the model.`
          : 'No leak found between the splits.'}
      </p>
      <ul className="health">
        {findings.map((finding) => (
          <li
            key={finding.id}
            data-finding={finding.id}
            className={finding.warning ? 'warning' : finding.caution ? 'caution' : undefined}
          >
            {finding.warning && <strong>Leak: </strong>}
            {finding.caution && <strong>Shortcut: </strong>}
            {finding.text}
          </li>
        ))}
      </ul>
    </section>
  );
});
