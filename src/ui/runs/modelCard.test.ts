import { describe, expect, it } from 'vitest';
import { INPUT_DECODING } from '../../core/inputDecoding';
import { DEFAULT_SETTINGS } from '../../core/settings';
import type { ModelMetadata } from '../../core/types';
import { analyseHealth } from '../../data/health';
import { buildReport } from '../../eval/report';
import { buildModelCard, modelCardFiles } from './modelCard';
import { seriesOfName } from './modelCardLimits';
import { escapeMarkdown } from './modelCardMarkdown';

const HOSTILE = '<img src=x onerror=alert(1)>*[link](http://x)*';
const classNames = ['NORMAL', HOSTILE];

const metadata: ModelMetadata = {
  model: 'batchnorm',
  classNames,
  imageSize: 64,
  channels: 1,
  normalisation: 'pixel / 255',
  output: 'sigmoid',
  positiveClass: HOSTILE,
  threshold: 0.4,
  thresholdClass: HOSTILE,
  thresholdRule: 'youden',
  resize: 'squashed',
  trainedEpochs: 3,
  backend: 'wasm',
  createdAt: '2026-12-04T00:00:00.000Z',
};

function scored(n: number) {
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 2);
  const scores = Float32Array.from(labels, (label, i) => (label ? 0.6 + (i % 5) / 20 : 0.2 + (i % 7) / 20));
  return { scores, labels };
}

describe('model card', () => {
  const paths = [
    'train/NORMAL/person1_virus_1.jpeg',
    'train/NORMAL/IM-0001-0001.jpeg',
    'test/NORMAL/IM-0002-0001.jpeg',
  ];
  const health = analyseHealth(
    paths.map((path, i) => ({
      path,
      folder: i < 2 ? 'train' : 'test',
      split: i < 2 ? 'train' : 'test',
      className: 'NORMAL',
      patient: `p${i}`,
      file: null,
      pixels: null,
      width: 0,
      height: 0,
    })),
    classNames,
  );
  const report = buildReport(scored(40), scored(60), { numClasses: 2, positiveClass: 1, settings: DEFAULT_SETTINGS });
  /** The card of a model trained on hospital.zip, whose health is `health` with `more`. */
  const cardOf = (more: Partial<typeof health> = {}) =>
    buildModelCard({
      metadata,
      settings: DEFAULT_SETTINGS,
      format: 'ONNX',
      dataset: {
        name: 'hospital.zip',
        classNames,
        health: { ...health, ...more },
        manifest: paths.map((path, i) => ({ path, split: i < 2 ? 'train' : 'test', className: 'NORMAL', group: null })),
        dicom: { images: 2, modalities: { CR: 2 } },
        validationPlan: { description: '10% of train held out' },
      },
      report,
      date: '2026-12-04T12:00:00.000Z',
    });
  const card = cardOf();

  it('carries the report figures, threshold and calibration as the page has them', () => {
    expect(card.metrics?.split).toBe('test');
    expect(card.metrics?.figures.sensitivity).toEqual({
      value: report.test!.metrics.sensitivity,
      interval: report.test!.intervals.sensitivity,
    });
    expect(card.metrics?.figures.auc.value).toBe(report.test!.metrics.auc);
    expect(card.threshold).toEqual({
      rule: expect.any(String),
      value: report.operatingPoint.threshold,
      positiveClass: HOSTILE,
    });
    expect(card.calibration?.brierScore).toBe(report.test!.calibration.brier);
    expect(card.notAMedicalDevice).toMatch(/^This model is not a medical device\./);
    expect(card.data?.imagesPerSplitAndClass.test).toEqual({ NORMAL: 1, [HOSTILE]: 0 });
    expect(card.data?.patients?.total).toBe(3);
    expect(card.data?.sourcesByFileNameSeries).toEqual({
      'person#_virus_#': { train: 1, validation: 0, test: 0 },
      'IM-#-#': { train: 1, validation: 0, test: 1 },
    });
    expect(card.appVersion).toBe('0.1.0');
  });

  it('gives the share of the reported split judged unlike the training data, or says it was not judged', () => {
    expect(card.outOfDistribution.rate).toBeNull();
    expect(card.outOfDistribution.note).toMatch(/^Not judged/);
    const ood = (distances: number[]) => ({ distances: Float32Array.from(distances), threshold: 2 });
    /** A card whose validation and test judgements name `layers` (none: a run kept before they were recorded). */
    const cardJudgedBy = (layers?: string[]) =>
      buildModelCard({
        metadata,
        settings: DEFAULT_SETTINGS,
        format: 'ONNX',
        dataset: null,
        report,
        scores: {
          validation: { ...scored(4), ood: { ...ood([1, 1, 1, 3]), ...(layers ? { layers } : {}) } },
          test: { ...scored(5), ood: { ...ood([3, 5, 1, 0, 1]), ...(layers ? { layers } : {}) } },
        },
        date: '2026-12-04T12:00:00.000Z',
      });
    const judged = cardJudgedBy();
    expect(judged.outOfDistribution.rate).toBeCloseTo(2 / 5, 12);
    expect(judged.outOfDistribution.note).toMatch(/^2 of 5 test images are unlike the training data/);
    expect(modelCardFiles(judged)[0].text).toMatch(/## Out-of-distribution rate\n\n0\.4\d*: 2 of 5 test images/);
    // A judgement without its layers (kept before they were recorded) does not guess the detector.
    expect(judged.outOfDistribution.note).toMatch(/the detector that judged is not recorded with this run/);
    expect(cardJudgedBy(['max_pooling2d_1', 'dense_1', 'image']).outOfDistribution.note).toMatch(
      /detector: several layers and image detail, the sum over max_pooling2d_1, dense_1 and the image's fine detail/,
    );
  });

  it('names a shortcut of its training data among the known limits, markup as text, a damaged one left out', () => {
    const shortcut = {
      property: 'detail' as const,
      className: HOSTILE,
      otherClass: 'NORMAL',
      ratio: 0.72,
      separation: 0.89,
    };
    const withShortcut = (shortcuts: unknown[]) => cardOf({ shortcuts: shortcuts as typeof health.shortcuts });
    const limits = withShortcut([shortcut, { ...shortcut, property: 'size', separation: 0.6 }]).knownLimits;
    expect(limits.filter((l) => l.includes('alone told'))).toEqual([
      `In its training data, fine detail at its input alone told ${HOSTILE} films from NORMAL films apart (AUC 0.89; ` +
        `${HOSTILE} 0.72 times theirs): where films differ in fine detail at its input for other reasons (scanner, ` +
        'processing, resolution), the model may misread them.',
    ]);
    expect(modelCardFiles(withShortcut([shortcut]))[0].text).not.toContain('<img');
    expect(
      withShortcut([
        { ...shortcut, ratio: 'x' },
        { ...shortcut, separation: null },
      ]).knownLimits,
    ).toEqual(card.knownLimits);
  });

  it('names, among the known limits, a model whose metadata does not say its films were decoded as now', () => {
    const older = card.knownLimits.filter((l) => l.includes('decoded as the page decodes them'));
    expect(older).toEqual([
      'Its metadata does not say its training films were decoded as the page decodes them since 2026-12-05: a ' +
        'model trained before then learnt from JPEG films decoded below its 64 px input and enlarged (softer than ' +
        'they are), and its figures may not hold for films decoded as they are now.',
    ]);
    const cardWith = (m: ModelMetadata) =>
      buildModelCard({ metadata: m, settings: DEFAULT_SETTINGS, format: 'ONNX', dataset: null, report, date: 'x' });
    const now = cardWith({ ...metadata, inputDecoding: INPUT_DECODING }).knownLimits;
    expect(cardWith(metadata).knownLimits.filter((l) => !now.includes(l))).toEqual(older);
  });

  it('writes both files; markup in class names stays text in the markdown', () => {
    const [md, json] = modelCardFiles(card);
    expect(md.name).toBe('model-card.md');
    expect(json.name).toBe('model-card.json');
    expect(md.text).not.toContain('<img');
    expect(md.text).not.toContain('[link](');
    expect(md.text).toContain('&lt;img src=x onerror=alert(1)&gt;\\*\\[link\\](http://x)\\*');
    expect(md.text).toContain('not a medical device');
    expect(md.text).toContain(`| sensitivity | ${report.test!.metrics.sensitivity.toFixed(3)} |`);
    expect(JSON.parse(json.text).model.classes).toEqual(classNames);
  });

  it('says what the model does inside and, with per-image standardisation, how to load its own layer', () => {
    expect(card.model.input).toMatch(/nothing more inside the model$/);
    expect(card.model.customLayer).toBeNull();
    expect(modelCardFiles(card)[0].text).not.toContain('PerImageStandardization');
    const standardised = buildModelCard({
      metadata,
      settings: { ...DEFAULT_SETTINGS, intensityNormalisation: 'per-image' },
      format: 'TensorFlow.js',
      dataset: null,
      report: null,
      date: '2026-12-04T12:00:00.000Z',
    });
    expect(standardised.model.input).toMatch(/inside the model \(its first layer, PerImageStandardization\)/);
    const md = modelCardFiles(standardised)[0].text;
    expect(md).toContain('### Its own layer: PerImageStandardization');
    expect(md).toContain("```js\nimport * as tf from '@tensorflow/tfjs';");
    expect(md).toContain('tf.serialization.registerClass(PerImageStandardization);');
    expect(md).toContain('per\\_image\\_standardization.py');
  });

  it('says a snapshot ensemble is one, with its training and predict cost', () => {
    expect(card.model.ensemble).toBeNull();
    const ensemble = buildModelCard({
      metadata: { ...metadata, ensemble: { kind: 'snapshot', members: 3 } },
      settings: { ...DEFAULT_SETTINGS, snapshots: 3 },
      format: 'TensorFlow.js',
      dataset: null,
      report: null,
      ensemble: { kind: 'snapshot', members: 3, predictTimeRatio: 7.25 },
      date: '2026-12-05T01:00:00.000Z',
    });
    expect(ensemble.model.ensemble).toMatch(/snapshot ensemble of 3 members.*same epochs as one model/);
    expect(modelCardFiles(ensemble)[0].text).toMatch(/- Ensemble: A snapshot ensemble of 3 members.*7\.3 times one/);
  });

  it('names file-name series and escapes markdown', () => {
    expect(seriesOfName('a/NORMAL2-IM-1427-0001.jpeg')).toBe('NORMAL#-IM-#-#');
    expect(seriesOfName('x/1.2.840.113619.2.55')).toBe('#.#.#.#.#.#');
    expect(escapeMarkdown('a_b\n# c')).toBe('a\\_b \\# c');
  });
});
