/**
 * Times a few real training steps of the chosen model on the current backend, so that `auto` picks
 * the backend that is fastest on this machine for this model and size (not a guess from its name).
 */
import * as tf from '@tensorflow/tfjs';
import { disposeCnn } from '../model/cnn';
import { buildModel } from '../model/models';
import type { ModelName } from '../core/types';
import { weightedTrainStep } from '../model/weightedStep';

export interface ProbeShape {
  /** The network to time (tutorial when absent): a BatchNorm layer costs differently on each backend. */
  model?: ModelName;
  imageSize: number;
  numClasses: number;
  batchSize: number;
}

/** Images per training step while probing: enough to be representative, few enough to stay quick on slow backends. */
const PROBE_BATCH = 8;
/** After a warm-up step slower than this, the backend is plainly too slow: skip the timed step. */
const WARM_UP_BUDGET_MS = 20_000;

/** Milliseconds per image of a steady-state training step (after one warm-up step that compiles kernels). */
export async function msPerImage(shape: ProbeShape, now: () => number = () => performance.now()): Promise<number> {
  const batch = Math.max(1, Math.min(PROBE_BATCH, shape.batchSize));
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
    if (warmUp > WARM_UP_BUDGET_MS) return warmUp / batch;
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
  /** null when the backend could not start (see `problem`). */
  msPerImage: number | null;
  problem: string | null;
  /** A GPU backend emulated by the CPU (SwiftShader, llvmpipe…): timed, but picked only when nothing else runs. */
  software?: boolean;
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
 * For the page: what was measured, e.g. "webgl 50 images/s, wasm 500 images/s", and which GPU backends ran in
 * software (" (webgl in software: never picked while another backend runs)").
 */
export function describeOutcomes(outcomes: ProbeOutcome[]): string {
  const measured = outcomes
    .map((o) =>
      o.msPerImage !== null
        ? `${o.name} ${(1000 / o.msPerImage).toFixed(0)} images/s`
        : `${o.name} unavailable (${o.problem})`,
    )
    .join(', ');
  const software = outcomes.filter((o) => o.software && o.msPerImage !== null).map((o) => o.name);
  if (software.length === 0) return measured;
  return `${measured} (${software.join(' and ')} in software: never picked while another backend runs)`;
}
