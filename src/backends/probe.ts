/**
 * Times a few real training steps of the chosen model on the current backend, so that `auto` picks
 * the backend that is fastest on this machine for this model and size (not a guess from its name).
 */
import * as tf from '@tensorflow/tfjs';
import { disposeCnn } from '../model/cnn';
import { buildModel } from '../model/models';
import type { ModelName } from '../core/types';
import { weightedTrainStep } from '../model/weightedStep';
import { messageOf } from '../core/userError';

export interface ProbeShape {
  /** The network to time (tutorial when absent): a BatchNorm layer costs differently on each backend. */
  model?: ModelName;
  imageSize: number;
  numClasses: number;
  batchSize: number;
}

/**
 * The most images a probe step takes. The run's own batch is timed (a GPU's per-dispatch overhead dominates a
 * small batch and would understate it), up to this, so that a huge batch setting cannot make the probe long.
 */
export const PROBE_BATCH_CAP = 64;
/** After a warm-up step slower than this, the backend is plainly too slow: skip the timed step. */
export const WARM_UP_BUDGET_MS = 20_000;
/** A later backend's warm-up may take this many times the best timed step so far before it is cut short… */
const SLOWER_THAN_BEST = 10;
/** …but never less than this: a real GPU's first step compiles its shaders, which a CPU backend does not. */
const WARM_UP_FLOOR_MS = 5_000;

/** Images a probe step takes: the run's batch size, capped. */
export function probeBatch(shape: ProbeShape): number {
  return Math.max(1, Math.min(PROBE_BATCH_CAP, Math.floor(shape.batchSize)));
}

/**
 * Milliseconds per image of a steady-state training step (after one warm-up step that compiles kernels). A warm-up
 * slower than `warmUpBudgetMs` is the answer itself: the backend is too slow to be worth a timed step.
 */
export async function msPerImage(
  shape: ProbeShape,
  now: () => number = () => performance.now(),
  warmUpBudgetMs = WARM_UP_BUDGET_MS,
): Promise<number> {
  const batch = probeBatch(shape);
  const model = buildModel(shape.model ?? 'tutorial', {
    imageSize: shape.imageSize,
    numClasses: shape.numClasses,
    learningRate: 1e-3,
    seed: 0,
  });
  const xs = tf.randomUniform([batch, shape.imageSize, shape.imageSize, 1]);
  const ys =
    shape.numClasses === 2
      ? tf.tidy(() => tf.randomUniform([batch, 1]).round())
      : tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, shape.numClasses, 'int32'), shape.numClasses));
  // The step training takes (class-weighted; the weights do not change its cost).
  const weights = new Array<number>(shape.numClasses).fill(1);
  const step = () => weightedTrainStep(model, xs as tf.Tensor4D, ys as tf.Tensor2D, weights);
  try {
    let start = now();
    await step();
    const warmUp = now() - start;
    if (warmUp > warmUpBudgetMs) return warmUp / batch;
    start = now();
    await step();
    return (now() - start) / batch;
  } finally {
    xs.dispose();
    ys.dispose();
    disposeCnn(model);
  }
}

export interface ProbeOutcome {
  name: string;
  /** null when the backend could not start (see `problem`), or ran in software and was not timed. */
  msPerImage: number | null;
  problem: string | null;
  /**
   * A GPU backend emulated by the CPU (SwiftShader, llvmpipe…): timed only when no real backend was, since it is
   * picked only when nothing else runs.
   */
  software?: boolean;
}

/** A backend `auto` may pick. */
export interface ProbeCandidate {
  name: string;
  /** Makes it tfjs' current backend: null when it runs, else why not. */
  start(): Promise<string | null>;
  /** Whether it is a GPU emulated by the CPU (asked while it is the current backend). */
  software(): boolean;
}

/**
 * Starts each candidate in turn and times it on `shape`; one outcome per candidate, in their order. A software GPU
 * is timed only when no real backend could be (it cannot win against one, so timing it would only cost the person
 * time), and a backend whose warm-up takes far longer than the best step so far is not given a timed step.
 */
export async function raceBackends(
  candidates: ProbeCandidate[],
  shape: ProbeShape,
  time: (warmUpBudgetMs: number) => Promise<number> = (budget) => msPerImage(shape, undefined, budget),
): Promise<ProbeOutcome[]> {
  const outcomes = new Array<ProbeOutcome>(candidates.length);
  let bestStepMs = Infinity;
  const timeCurrent = async (name: string, software: boolean): Promise<ProbeOutcome> => {
    const budget = Number.isFinite(bestStepMs)
      ? Math.min(WARM_UP_BUDGET_MS, Math.max(WARM_UP_FLOOR_MS, SLOWER_THAN_BEST * bestStepMs))
      : WARM_UP_BUDGET_MS;
    try {
      const ms = await time(budget);
      if (!software) bestStepMs = Math.min(bestStepMs, ms * probeBatch(shape));
      return { name, msPerImage: ms, problem: null, software };
    } catch (error) {
      return { name, msPerImage: null, problem: messageOf(error), software };
    }
  };
  const inSoftware: number[] = [];
  for (const [i, candidate] of candidates.entries()) {
    const problem = await candidate.start();
    if (problem !== null) outcomes[i] = { name: candidate.name, msPerImage: null, problem };
    else if (candidate.software()) inSoftware.push(i);
    else outcomes[i] = await timeCurrent(candidate.name, false);
  }
  const realTimed = outcomes.some((o) => o !== undefined && o.msPerImage !== null);
  for (const i of inSoftware) {
    const { name, start } = candidates[i];
    if (realTimed) {
      outcomes[i] = { name, msPerImage: null, problem: null, software: true };
      continue;
    }
    // Back to this backend: the others were started after it.
    const problem = await start();
    outcomes[i] = problem === null ? await timeCurrent(name, true) : { name, msPerImage: null, problem };
  }
  return outcomes;
}

/**
 * The fastest backend that started, or null when none did. A software GPU never wins against a backend that
 * runs for real: it may time well on a tiny probe, yet it is the CPU doing a GPU's work, and slows the page.
 */
export function fastest(outcomes: ProbeOutcome[]): ProbeOutcome | null {
  const started = outcomes.filter((o) => o.msPerImage !== null);
  const real = started.filter((o) => !o.software);
  const timed = real.length > 0 ? real : started;
  if (timed.length === 0) return null;
  return timed.reduce((best, o) => ((o.msPerImage as number) < (best.msPerImage as number) ? o : best));
}

/**
 * For the page: what was measured, e.g. "webgl in software (not timed), wasm 500 images/s", and which GPU backends
 * ran in software ("; webgl in software: never picked while another backend runs"): a clause of its own, not a second
 * parenthesis after a backend's reason.
 */
export function describeOutcomes(outcomes: ProbeOutcome[]): string {
  const measured = outcomes.map(describeOutcome).join(', ');
  const software = outcomes.filter((o) => o.software && o.problem === null).map((o) => o.name);
  if (software.length === 0) return measured;
  return `${measured}; ${software.join(' and ')} in software: never picked while another backend runs`;
}

function describeOutcome(o: ProbeOutcome): string {
  if (o.msPerImage !== null) return `${o.name} ${(1000 / o.msPerImage).toFixed(0)} images/s`;
  if (o.problem !== null) return `${o.name} unavailable (${o.problem})`;
  return `${o.name} in software (not timed)`;
}
