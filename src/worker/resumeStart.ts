/** Where a resumed run starts, from what the page kept of it (a checkpoint, and its best epoch so far). */
import type * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, loadModelFiles } from '../model/checkpoint';
import type { ResumeFrom } from './protocol';
import type { RunStart } from './trainingRun';

/** A resumed run's start: the checkpoint's weights and optimizer state in `model`, and its best epoch so far. */
export async function resumeStart(model: tf.LayersModel, resume: ResumeFrom): Promise<RunStart> {
  await loadCheckpoint(model, resume.checkpoint);
  if (!resume.best) return { epochsDone: resume.epochsDone, best: null };
  const best = await loadModelFiles(resume.best.files);
  try {
    // Copies: the loaded model and its variables go.
    const weights = best.getWeights().map((w) => w.clone());
    return { epochsDone: resume.epochsDone, best: { epoch: resume.best.epoch, valLoss: resume.best.valLoss, weights } };
  } finally {
    best.dispose();
  }
}
