/**
 * The model card's shape (model-card.json as written) and what it is built from: the run's metadata and settings,
 * the loaded dataset, the evaluation report. Built in modelCard.ts, written as markdown in modelCardMarkdown.ts.
 */
import type { EnsembleRun, KeptScores, ManifestRow, ModelMetadata, Settings, SplitName } from '../../core/types';
import type { DatasetHealth } from '../../data/health';
import type { DicomSummary, LabelsReport } from '../../data/types';
import type { Interval, IntervalMetric } from '../../eval/bootstrap';
import type { EvaluationReport } from '../../eval/report';

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
  /** The snapshot ensemble the model is; absent or null for a single model. */
  ensemble?: EnsembleRun | null;
  date: string;
}

export type Figure = { value: number; interval: Interval | null };

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
    /** What a snapshot ensemble saved as one model is and costs (core/ensemble.ts); null for a single model. */
    ensemble: string | null;
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

export const SPLITS: SplitName[] = ['train', 'validation', 'test'];
