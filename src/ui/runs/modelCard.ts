/**
 * The model card in every download (`model-card.json` and `model-card.md`): what the model is for and not for, the
 * data it learnt from, its settings, the page's reported figures with their intervals, the threshold, calibration,
 * and known limits, dated and versioned. Built from what the page shows, so its figures are the page's.
 */
import { APP_VERSION } from '../../core/appVersion';
import type { KeptScores, OodJudgement, SplitName } from '../../core/types';
import { judgingDetector, recordedLayers } from '../common/oodText';
import type { IntervalMetric } from '../../eval/bootstrap';
import type { EvaluationReport, SplitReport } from '../../eval/report';
import { describeRule } from '../../eval/thresholdRules';
import { countUnlike } from '../../eval/outOfDistribution';
import { inModelNormalisationText, TFJS_REGISTRATION_CODE } from '../../core/intensityNormalisation';
import { knownLimits, seriesOf } from './modelCardLimits';
import { ensembleText } from '../../core/ensemble';
import { modelCardMarkdown } from './modelCardMarkdown';
import { SPLITS, type CardDataset, type Figure, type ModelCard, type ModelCardInput } from './modelCardTypes';

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
      `${flagged} of ${images} ${split} images are unlike the training data (${detectorText(judged)} above ` +
      `${judged.threshold.toPrecision(4)}, the cut that flags about 5% of validation).`,
  };
}

/** Which detector judged: the feature ensemble's layers, or the last hidden layer alone. */
function detectorText(judged: OodJudgement): string {
  const layers = recordedLayers(judged);
  if (!layers) return 'the detector that judged is not recorded with this run; its score';
  const { name, detail, modelLayers } = judgingDetector(layers);
  if (layers.length <= 1)
    return `detector: ${name}, the squared Mahalanobis distance of the penultimate-layer features`;
  return (
    `detector: ${name}, the sum over ${modelLayers.slice(0, 8).join(', ')}` +
    `${detail ? " and the image's fine detail at four scales" : ''} of each one's squared Mahalanobis distance in ` +
    'units of its median on validation'
  );
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
  ensemble,
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
      ensemble: ensemble ? ensembleText(ensemble) : null,
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
    knownLimits: knownLimits(dataset, report, metadata),
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
