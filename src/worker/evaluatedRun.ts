/**
 * What the worker keeps of a run's final evaluation: the kept model's scores on validation and test,
 * with the splits' patients and pixels. The page's `evaluate` requests (operating point, intervals,
 * calibration: eval/report.ts) and `evaluatedImages` requests (a confusion-matrix cell's images) are
 * answered from it, without the model and without retraining.
 */
import { checkEvalSettings } from '../core/settings';
import { UserError } from '../core/userError';
import type { ImageSet, OodJudgement, ScoredSplit, TestTimeAugmentation } from '../core/types';
import { buildReport, type EvaluationReport } from '../eval/report';
import type { KeptScores, TrainerReplies, TrainerRequests } from './protocol';

export class EvaluatedRun {
  constructor(
    readonly numClasses: number,
    private readonly validation: ScoredSplit,
    private readonly test: ScoredSplit | null,
    /** The split the page's Results show: test, or validation when there is none; null for a restored run. */
    private readonly shown: ImageSet | null,
  ) {}

  /** The test split's scores by the model adapted to it (BatchNorm re-estimated on its images), once asked for. */
  adaptedTest: ScoredSplit | null = null;

  /** Validation's and test's scores with test-time augmentation, by kind, once asked for (KeptModel.scoreWithTta). */
  private readonly tta = new Map<TestTimeAugmentation, { validation: ScoredSplit; test: ScoredSplit | null }>();

  hasTtaScores(kind: TestTimeAugmentation): boolean {
    return kind === 'off' || this.tta.has(kind);
  }

  /** Keeps the splits' scores with `kind` of test-time augmentation; each image keeps its plain OOD judgement. */
  setTtaScores(kind: TestTimeAugmentation, validation: Float32Array, test: Float32Array | null): void {
    const like = (split: ScoredSplit, scores: Float32Array): ScoredSplit => {
      if (scores.length !== split.scores.length) throw new Error('The re-scored split does not match the kept one.');
      return { ...split, scores };
    };
    this.tta.set(kind, {
      validation: like(this.validation, validation),
      test: this.test && test ? like(this.test, test) : null,
    });
  }

  /** Whether there is a test split to adapt to (adapting to validation would let it choose and judge at once). */
  get hasTest(): boolean {
    return this.test !== null;
  }

  /** The report with the adapted test scores (`adaptedTest` must be set). */
  adaptedReport({ positiveClass, settings }: TrainerRequests['adaptedReport']): EvaluationReport {
    if (!this.adaptedTest) throw new Error('The test split has not been scored by the adapted model yet.');
    return buildReport(this.validation, this.adaptedTest, { numClasses: this.numClasses, positiveClass, settings });
  }

  /** What the page keeps of it (a reload brings the run back with `restoreModel`). */
  get scores(): KeptScores {
    return { validation: this.validation, test: this.test };
  }

  report({ positiveClass, settings }: TrainerRequests['evaluate']): EvaluationReport {
    const problem = checkEvalSettings(settings);
    if (problem) throw new UserError(problem);
    if (!Number.isInteger(positiveClass) || positiveClass < 0 || positiveClass >= this.numClasses) {
      throw new UserError(`The positive class must be one of the ${this.numClasses} classes (got ${positiveClass}).`);
    }
    const kind = settings.testTimeAugmentation ?? 'off';
    const scored = kind === 'off' ? { validation: this.validation, test: this.test } : this.tta.get(kind);
    if (!scored) throw new Error(`The splits have not been scored with test-time augmentation ${kind} yet.`);
    return buildReport(scored.validation, scored.test, { numClasses: this.numClasses, positiveClass, settings });
  }

  /** The pixels of the shown split's images at `indices`, one after the other. */
  images({ indices }: TrainerRequests['evaluatedImages']): TrainerReplies['evaluatedImages'] {
    if (!this.shown)
      throw new UserError(
        'The images of this saved run are not in the page any more: load its dataset again to see them.',
      );
    const { size, count } = this.shown;
    const bad = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= count);
    if (bad !== undefined) throw new UserError(`There is no image ${bad} in the evaluated split (it has ${count}).`);
    return { size, indices: Uint32Array.from(indices), pixels: pixelsOf(this.shown, indices) };
  }
}

/** A split's scores as the worker keeps them: its own copy of the scores (the reply's are transferred away). */
export function keptScores(set: ImageSet, scores: Float32Array, ood?: OodJudgement): ScoredSplit {
  return {
    scores: scores.slice(),
    labels: set.labels.subarray(0, set.count),
    groups: set.groups?.subarray(0, set.count),
    ...(ood ? { ood: copyOfJudgement(ood) } : {}),
  };
}

/** The worker's own copy of a judgement (the reply's buffers are transferred away), its layers and parts kept. */
function copyOfJudgement(ood: OodJudgement): OodJudgement {
  return {
    distances: ood.distances.slice(),
    threshold: ood.threshold,
    ...(ood.layers ? { layers: [...ood.layers] } : {}),
    ...(ood.parts ? { parts: ood.parts.slice() } : {}),
    ...(ood.detailRatio ? { detailRatio: ood.detailRatio.slice() } : {}),
  };
}

/** The pixels of some images of a set, one after the other (the page keeps no copy of the splits). */
export function pixelsOf(set: ImageSet, indices: ArrayLike<number>): Uint8Array {
  const area = set.size * set.size;
  const out = new Uint8Array(indices.length * area);
  for (let k = 0; k < indices.length; k++)
    out.set(set.pixels.subarray(indices[k] * area, (indices[k] + 1) * area), k * area);
  return out;
}
