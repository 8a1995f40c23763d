/**
 * model-card.md: the card as markdown, every stranger's string (class names, file names, tag values) escaped so it
 * shows as text.
 */
import type { SplitName } from '../../core/types';
import { fmt } from './modelCardLimits';
import { SPLITS, type ModelCard } from './modelCardTypes';

/**
 * Markdown shows text: what markdown or HTML could read as markup (`<`, `&`, emphasis, links, code, tables) is
 * escaped, line breaks flattened. Class names, file names and tag values are hostile input.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~!#]/g, (c) => `\\${c}`);
}

export function modelCardMarkdown(card: ModelCard): string {
  const e = escapeMarkdown;
  const lines = [
    `# Model card: ${e(card.title)}`,
    '',
    `**${e(card.notAMedicalDevice)}**`,
    '',
    '## Intended use',
    '',
    e(card.intendedUse),
    '',
  ];
  const m = card.model;
  lines.push(
    '## Model',
    '',
    `- Network: ${e(m.name)}; format: ${e(m.format)}`,
    `- Classes (output order): ${m.classes.map(e).join(', ')}`,
  );
  lines.push(`- Input: ${e(m.input)}`, `- Trained for ${m.trainedEpochs} epochs on ${e(m.backend)}`);
  if (m.ensemble) lines.push(`- Ensemble: ${e(m.ensemble)}`);
  lines.push('');
  if (m.customLayer) {
    // Our own text and code (never the dataset's), so the code block needs no escaping.
    lines.push(
      `### Its own layer: ${m.customLayer.className}`,
      '',
      e(m.customLayer.howToLoad),
      '',
      '```js',
      m.customLayer.tfjsCode,
      '```',
      '',
    );
  }
  lines.push('## Data', '');
  const d = card.data;
  if (!d) lines.push('Not known here (the dataset was not loaded when the model was downloaded).', '');
  else {
    lines.push(`Dataset: ${e(d.name)}${d.labelsFile ? `; labels from ${e(d.labelsFile)}` : ''}`, '');
    const classes = Object.keys(d.imagesPerSplitAndClass.train);
    lines.push(
      `| split | ${classes.map(e).join(' | ')} | patients |`,
      `| --- | ${classes.map(() => '---').join(' | ')} | --- |`,
    );
    for (const split of SPLITS) {
      lines.push(
        `| ${split} | ${classes.map((c) => d.imagesPerSplitAndClass[split][c]).join(' | ')} | ${d.patients ? d.patients.perSplit[split] : 'unknown'} |`,
      );
    }
    lines.push(
      '',
      `- Patients: ${d.patients ? d.patients.total : 'unknown (no patient in file names, PatientID or labels file)'}`,
    );
    lines.push(`- Validation: ${e(d.validation)}`, `- Test: ${d.test ? e(d.test) : 'the test folder'}`);
    const series = Object.entries(d.sourcesByFileNameSeries).sort((a, b) => total(b[1]) - total(a[1]));
    lines.push(
      `- Sources by file-name series: ${
        series
          .slice(0, 20)
          .map(([s, n]) => `${e(s)} (train ${n.train}, validation ${n.validation}, test ${n.test})`)
          .join('; ') || 'none'
      }`,
    );
    const mix = d.dicom
      ? Object.entries(d.dicom.modalities)
          .map(([k, n]) => `${e(k)} ${n}`)
          .join(', ')
      : '';
    lines.push(`- DICOM: ${d.dicom ? `${d.dicom.images} files; modalities ${mix}` : 'none'}`, '');
  }
  lines.push('## Reported figures', '');
  const r = card.metrics;
  if (!r) lines.push('None: the model was not evaluated before this download.', '');
  else {
    lines.push(
      `On the ${r.split} split (${r.images} images), at the threshold below; ${e(r.intervalsOver)}.`,
      '',
      '| figure | value | 95% interval |',
      '| --- | --- | --- |',
    );
    for (const [name, f] of Object.entries(r.figures))
      lines.push(
        `| ${name} | ${fmt(f.value)} | ${f.interval ? `${fmt(f.interval[0])} – ${fmt(f.interval[1])}` : '–'} |`,
      );
    lines.push('');
  }
  const t = card.threshold;
  lines.push(
    '## Threshold',
    '',
    `${t.positiveClass ? `${e(t.positiveClass)} is predicted when its probability is at least ` : 'Threshold '}${fmt(t.value)}: ${e(t.rule)}.`,
    '',
  );
  const c = card.calibration;
  lines.push(
    '## Calibration',
    '',
    c
      ? `Expected calibration error ${fmt(c.expectedCalibrationError)}, Brier score ${fmt(c.brierScore)}${c.temperature !== null ? `, after temperature scaling (T = ${fmt(c.temperature)})` : ''}.`
      : 'Not measured.',
    '',
  );
  lines.push(
    '## Out-of-distribution rate',
    '',
    card.outOfDistribution.rate === null
      ? e(card.outOfDistribution.note)
      : `${fmt(card.outOfDistribution.rate)}: ${e(card.outOfDistribution.note)}`,
    '',
  );
  lines.push(
    '## Known limits',
    '',
    ...card.knownLimits.map((limit) => `- ${e(limit)}`),
    '',
    'Add what you know of the data (who, where, which machines) before sharing this model.',
    '',
  );
  lines.push('## Settings', '', ...Object.entries(card.settings).map(([k, v]) => `- ${e(k)}: ${e(String(v))}`), '');
  lines.push(`Written ${e(card.date)} by the in-browser X-ray trainer, version ${e(card.appVersion)}.`, '');
  return lines.join('\n');
}

function total(counts: Record<SplitName, number>): number {
  return counts.train + counts.validation + counts.test;
}
