/**
 * The model card in every download (`model-card.json` and `model-card.md`): what the model is for and not for, the
 * data it learnt from, its settings, the page's reported figures with their intervals, the threshold, calibration,
 * and known limits, dated and versioned. Built from what the page shows, so its figures are the page's.
 */
import { APP_VERSION } from '../../core/appVersion';
import type { KeptScores, ManifestRow, ModelMetadata, Settings, SplitName } from '../../core/types';
import type { DatasetHealth } from '../../data/health';
import type { DicomSummary, LabelsReport } from '../../data/types';
import type { Interval, IntervalMetric } from '../../eval/bootstrap';
import type { EvaluationReport, SplitReport } from '../../eval/report';
import { describeRule } from '../../eval/thresholdRules';
import { countUnlike } from '../../eval/outOfDistribution';
import { inModelNormalisationText, TFJS_REGISTRATION_CODE } from '../../core/intensityNormalisation';

/** What the page knows of the data the model was trained on (the loaded dataset), when it is the run's. */
export interface CardDataset {
  name: string;
  classNames: string[];
  health: DatasetHealth;
  manifest?: ManifestRow[];
  dicom?: DicomSummary | null;
  labels?: LabelsReport;
  validationPlan: { description: string };
  testPlan?: string;
}

export interface ModelCardInput {
  metadata: ModelMetadata;
  settings: Settings;
  format: string;
  dataset: CardDataset | null;
  report: EvaluationReport | null;
  /** The kept model's scores, whose out-of-distribution judgements give the card its rate (absent: not judged). */
  scores?: KeptScores | null;
  date: string;
}

type Figure = { value: number; interval: Interval | null };

export interface ModelCard {
  title: string;
  intendedUse: string;
  notAMedicalDevice: string;
  model: {
    name: string;
    format: string;
    classes: string[];
    imageSize: number;
    input: string;
    trainedEpochs: number;
    backend: string;
    /**
     * What a runtime outside this app must know of the model's own layers: today, that its first layer is the app's
     * PerImageStandardization, and how each format loads it; null when the model has only standard layers.
     */
    customLayer: { className: string; howToLoad: string; tfjsCode: string } | null;
  };
  data: {
    name: string;
    imagesPerSplitAndClass: Record<SplitName, Record<string, number>>;
    patients: { total: number; perSplit: Record<SplitName, number> } | null;
    sourcesByFileNameSeries: Record<string, Record<SplitName, number>>;
    dicom: DicomSummary | null;
    labelsFile: string | null;
    validation: string;
    test: string | null;
  } | null;
  settings: Settings;
  metrics: {
    split: 'validation' | 'test';
    images: number;
    intervalsOver: string;
    figures: Record<IntervalMetric | 'f1', Figure>;
  } | null;
  threshold: { rule: string; value: number | null; positiveClass: string | null };
  calibration: { expectedCalibrationError: number; brierScore: number; temperature: number | null } | null;
  outOfDistribution: { rate: number | null; note: string };
  knownLimits: string[];
  date: string;
  appVersion: string;
}

const SPLITS: SplitName[] = ['train', 'validation', 'test'];

/** The share of the reported split (test, else validation) judged unlike the training data, and how it was judged. */
function oodRateOf(scores: KeptScores | null): ModelCard['outOfDistribution'] {
  // The reported split, as the card's metrics: test, else validation.
  const split = scores?.test?.ood ? 'test' : 'validation';
  const judged = scores?.test?.ood ?? scores?.validation.ood ?? null;
  if (!judged || judged.distances.length === 0) {
    return {
      rate: null,
      note: 'Not judged: the model carries no out-of-distribution statistics, or no split was scored.',
    };
  }
  const flagged = countUnlike(judged);
  const images = judged.distances.length;
  return {
    rate: flagged / images,
    note:
      `${flagged} of ${images} ${split} images are unlike the training data (squared Mahalanobis distance of the ` +
      `penultimate-layer features above ${judged.threshold.toPrecision(4)}, the cut that flags about 5% of validation).`,
  };
}

const PER_IMAGE_LAYER: NonNullable<ModelCard['model']['customLayer']> = {
  className: 'PerImageStandardization',
  howToLoad:
    'TensorFlow.js: register the class below before tf.loadLayersModel (this app does). ONNX: nothing to do, the ' +
    'layer is standard nodes (ReduceMean, Sub, Mul, Max, Sqrt, Div). Keras: pass the class of ' +
    "per_image_standardization.py (in the Keras download) to load_model's custom_objects. PyTorch bundle: train.py " +
    'builds it (PerImageStandardization) from model.json or settings.json.',
  tfjsCode: TFJS_REGISTRATION_CODE,
};

export function buildModelCard({
  metadata,
  settings,
  format,
  dataset,
  report,
  scores,
  date,
}: ModelCardInput): ModelCard {
  const reported = report ? (report.test ?? report.validation) : null;
  const positive = report ? metadata.classNames[report.positiveClass] : metadata.positiveClass;
  return {
    title: `Image classifier: ${metadata.classNames.join(' vs ')}`,
    intendedUse:
      `Research and teaching: classifying ${metadata.imageSize} x ${metadata.imageSize} grey images as ${metadata.classNames.join(', ')}, ` +
      'on images like those it was trained on, to study what such a model can and cannot do.',
    notAMedicalDevice:
      'This model is not a medical device. It must not be used to diagnose, treat or triage patients, or to inform any clinical decision.',
    model: {
      name: metadata.model,
      format,
      classes: metadata.classNames,
      imageSize: metadata.imageSize,
      input:
        `${metadata.imageSize} x ${metadata.imageSize} x 1 grey, ${metadata.normalisation}; ${metadata.resize}; ` +
        inModelNormalisationText(settings.intensityNormalisation ?? 'none'),
      trainedEpochs: metadata.trainedEpochs,
      backend: metadata.backend,
      customLayer: settings.intensityNormalisation === 'per-image' ? PER_IMAGE_LAYER : null,
    },
    data: dataset ? dataOf(dataset) : null,
    settings,
    metrics: reported && report ? metricsOf(reported, report) : null,
    threshold: {
      rule: report ? describeRule(report.operatingPoint) : (metadata.thresholdRule ?? 'none reported'),
      value: report ? report.operatingPoint.threshold : metadata.threshold,
      positiveClass: positive ?? null,
    },
    calibration:
      reported && report
        ? {
            expectedCalibrationError: reported.calibration.ece,
            brierScore: reported.calibration.brier,
            temperature: report.temperature,
          }
        : null,
    outOfDistribution: oodRateOf(scores ?? null),
    knownLimits: knownLimits(dataset, report),
    date,
    appVersion: APP_VERSION,
  };
}

function dataOf(dataset: CardDataset): NonNullable<ModelCard['data']> {
  const { health, classNames } = dataset;
  const perClass = Object.fromEntries(
    SPLITS.map((split) => [
      split,
      Object.fromEntries(classNames.map((name, c) => [name, health.classCounts[split][c] ?? 0])),
    ]),
  ) as Record<SplitName, Record<string, number>>;
  return {
    name: dataset.name,
    imagesPerSplitAndClass: perClass,
    patients: health.patients ? { total: health.patients.total, perSplit: health.patients.bySplit } : null,
    sourcesByFileNameSeries: seriesOf(dataset.manifest ?? []),
    dicom: dataset.dicom ?? null,
    labelsFile: dataset.labels?.name ?? null,
    validation: dataset.validationPlan.description,
    test: dataset.testPlan ?? null,
  };
}

/**
 * A file name's series: its shape with every number a `#` and no extension (`person#_bacteria_#`, `IM-#-#`,
 * `NORMAL#-IM-#-#`). Images of one series usually come from one source; a model can learn the source.
 */
export function seriesOfName(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const stem = name.includes('.') && !/^[\d.]+$/.test(name) ? name.slice(0, name.lastIndexOf('.')) : name;
  return stem.replace(/\d+/g, '#').slice(0, 60);
}

function seriesOf(rows: readonly ManifestRow[]): Record<string, Record<SplitName, number>> {
  const series: Record<string, Record<SplitName, number>> = {};
  for (const row of rows) {
    const key = seriesOfName(row.path);
    series[key] ??= { train: 0, validation: 0, test: 0 };
    series[key][row.split] += 1;
  }
  return series;
}

function metricsOf(reported: SplitReport, report: EvaluationReport): NonNullable<ModelCard['metrics']> {
  const { metrics, intervals } = reported;
  const figure = (metric: IntervalMetric): Figure => ({ value: metrics[metric], interval: intervals[metric] ?? null });
  return {
    split: reported.split,
    images: reported.count,
    intervalsOver: `95% bootstrap intervals over ${reported.units} ${reported.unit} (${report.resamples} resamples)`,
    figures: {
      accuracy: figure('accuracy'),
      auc: figure('auc'),
      sensitivity: figure('sensitivity'),
      specificity: figure('specificity'),
      precision: figure('precision'),
      f1: { value: metrics.f1, interval: null },
    },
  };
}

function knownLimits(dataset: CardDataset | null, report: EvaluationReport | null): string[] {
  const limits = [
    'Images are squashed to a square and turned grey; anything the model needs beyond that resolution is lost.',
    'Its figures hold for images like its test images only: another hospital, machine, population (children or adults), view or disease mix can make it fail without warning.',
  ];
  if (!dataset)
    limits.push('The data it was trained on was not loaded when this card was written: its counts are not known here.');
  else {
    const series = Object.keys(seriesOf(dataset.manifest ?? []));
    if (series.length <= 3)
      limits.push(`Its images come from few file-name series (${series.join(', ') || 'none'}), likely one source.`);
    if (!dataset.health.patients)
      limits.push(
        'Patients were not known: images of one patient may be on both sides of a split, which flatters the figures.',
      );
  }
  if (!report) limits.push('No evaluation was reported: its figures are unknown.');
  else {
    if (!report.test)
      limits.push(
        'There was no test split: the figures are on the validation split that also chose the threshold, and are optimistic.',
      );
    const reported = report.test ?? report.validation;
    if (reported.count < 200) limits.push(`The figures rest on ${reported.count} images: their intervals are wide.`);
    for (const shift of report.shift)
      limits.push(
        `Validation and test disagree on ${shift.metric} beyond their intervals (${fmt(shift.validation)} vs ${fmt(shift.test)}).`,
      );
  }
  return limits;
}

function fmt(value: number | null): string {
  return value === null || !Number.isFinite(value) ? 'n/a' : value.toFixed(3);
}

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
  lines.push(`- Input: ${e(m.input)}`, `- Trained for ${m.trainedEpochs} epochs on ${e(m.backend)}`, '');
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

/** The two files, as every download holds them. */
export function modelCardFiles(card: ModelCard): { name: string; text: string }[] {
  return [
    { name: 'model-card.md', text: modelCardMarkdown(card) },
    {
      name: 'model-card.json',
      text: JSON.stringify(card, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2),
    },
  ];
}
