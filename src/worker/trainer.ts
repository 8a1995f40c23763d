/**
 * The training worker's brain, as a plain class so tests can drive it without a Worker:
 * requests in through `handle`, replies, progress and errors out through `post`, each naming its
 * request. It keeps the decoded splits and the last trained model; a failure fails that request
 * alone (an `error` naming it) and the worker keeps running.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkEvalSettings } from '../core/settings';
import { UserError } from '../core/userError';
import { TrainingBackends, type TrainingBackendsLike } from '../backends/trainingBackends';
import { gpuLostMessage, usesGpu } from '../core/gpuLost';
import { checkSettings, checkSplits } from './checks';
import { describeModel } from './describeModel';
import { explainError } from './explainError';
import { assertNever } from '../core/assertNever';
import { trainerTransferables } from './transferables';
import {
  type ExportedModel,
  type FromTrainer,
  type ToTrainer,
  type TrainerReplies,
  type TrainerReply,
  type TrainerRequests,
  type TrainerRequest,
  type TrainProgress,
  type ResumeFrom,
} from './protocol';
import type { Splits, TrainSettings } from '../core/types';
import { renderAugmentationPreview } from './preview';
import type { RunControl } from './trainingRun';
import { evaluateFinal } from './finalEvaluation';
import { trainModel } from './trainModel';
import { REQUEST_ACTIONS } from './requestActions';
import { watchGpuLoss } from './gpuLossWatch';
import type { Post, TrainerOptions } from './trainerOptions';
import type { EvaluatedRun } from './evaluatedRun';
import type { EvaluationReport } from '../eval/report';
import { predictImages } from './predict';
import { KeptModel } from './keptModel';

export class Trainer {
  private data: Splits | null = null;
  /** The model kept between requests (trained, restored or loaded). */
  private readonly kept = new KeptModel();
  private backendName: string | null = null;
  /** The run going on, under the id of the request that started it. */
  private run: (RunControl & { id: number }) | null = null;
  private readonly backends: TrainingBackendsLike;
  /** Settles when the backend being started (if any) is ready. */
  private backendSwitch: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  private readonly heldWait: (() => Promise<void>) | undefined;

  constructor(
    private readonly post: Post,
    options: TrainerOptions = {},
  ) {
    this.backends = options.backends ?? new TrainingBackends();
    this.now = options.now ?? (() => performance.now());
    this.heldWait = options.heldWait;
  }

  /**
   * Handles one request: its reply, or an error naming it, is posted when it is done (for `train`,
   * when the run ends). Resolves then; never rejects.
   */
  async handle({ id, request }: ToTrainer): Promise<void> {
    try {
      const reply = await this.answer(id, request);
      this.send({ type: 'reply', id, reply });
    } catch (error) {
      let contextLost = false;
      try {
        contextLost = usesGpu(this.backendName) && this.backends.isContextLost();
      } catch {
        // Asking a broken backend may itself throw; the error below still goes out.
      }
      this.send({
        type: 'error',
        id,
        message: explainError(error, { action: REQUEST_ACTIONS[request.type], backend: this.backendName, contextLost }),
      });
    }
  }

  private async answer(id: number, request: TrainerRequest): Promise<TrainerReply> {
    switch (request.type) {
      case 'setData':
        return { type: 'setData', ...this.setData(request.splits) };
      case 'describeModel':
        await this.backendSwitch;
        return {
          type: 'describeModel',
          model: request.model,
          imageSize: request.imageSize,
          summary: describeModel(request),
        };
      case 'train':
        return { type: 'train', ...(await this.train(id, request.settings, request.resume ?? null)) };
      case 'restoreModel':
        return { type: 'restoreModel', ...(await this.restoreModel(request)) };
      case 'predict':
        return {
          type: 'predict',
          ...(await predictImages(await this.servingModel('predict'), request, this.kept.ood)),
        };
      case 'evaluateModel':
        return { type: 'evaluateModel', ...(await this.evaluateModel(id, request.batchSize)) };
      case 'stop': {
        // A stop after the run ended is a harmless race with the page: nothing to do.
        const stopping = this.run !== null && this.run.id === request.run;
        if (this.run && stopping) this.run.stopRequested = true;
        return { type: 'stop', stopping };
      }
      case 'pause': {
        const pausing = this.run !== null && this.run.id === request.run;
        if (this.run && pausing) this.run.paused = request.paused;
        return { type: 'pause', pausing };
      }
      case 'exportModel':
        return { type: 'exportModel', ...(await this.exportModel(request)) };
      case 'previewAugmentation':
        await this.backendSwitch;
        return { type: 'previewAugmentation', ...(await renderAugmentationPreview(this.data, request)) };
      case 'evaluate':
        return { type: 'evaluate', report: await this.report(request) };
      case 'adaptedReport':
        return { type: 'adaptedReport', report: await this.adaptedReport(request) };
      case 'shiftCheck':
        return {
          type: 'shiftCheck',
          check: await this.kept.shiftCheck(await this.servingModel('evaluate'), this.evaluatedRun(), this.data),
        };
      case 'evaluatedImages':
        return { type: 'evaluatedImages', ...this.evaluatedRun().images(request) };
      default:
        return assertNever(request);
    }
  }

  private send(message: FromTrainer): void {
    this.post(message, trainerTransferables(message));
  }

  // ---------------------------------------------------------------- data and the evaluated run

  private setData(splits: Splits): TrainerReplies['setData'] {
    // Whatever happens below, the previous dataset and its model no longer apply.
    this.data = null;
    // The model stays (Predict, Resume, evaluating it on the new data); its scores were on the old data.
    if (this.run) this.run.superseded = true;
    else this.kept.evaluated = null;
    checkSplits(splits);
    const { classNames, train, validation, test } = splits;
    this.data = { classNames: [...classNames], train, validation, test };
    return { counts: { train: train.count, validation: validation.count, test: test?.count ?? 0 } };
  }

  private evaluatedRun(): EvaluatedRun {
    if (!this.kept.evaluated)
      throw new UserError(
        'There is no evaluated model: train one first (a new dataset or a new run replaces the last).',
      );
    return this.kept.evaluated;
  }

  // ---------------------------------------------------------------- a kept model: restored, loaded, predicting

  /** The model to predict or evaluate with, once no run is changing it. */
  private async servingModel(what: 'predict' | 'evaluate'): Promise<tf.LayersModel> {
    if (this.run) throw new UserError(`Training is running: wait for it to end, or press Stop, then ${what}.`);
    await this.backendSwitch;
    if (!this.kept.model) throw new UserError(`There is no model to ${what} with: train one, or load a model file.`);
    return this.kept.model;
  }

  /** A backend for work outside a run (a restored model's predictions) when no run has chosen one yet. */
  private async ensureBackend(): Promise<void> {
    if (this.backendName !== null) return;
    const choosing = this.backends.choose('auto');
    this.backendSwitch = choosing.catch(() => undefined);
    this.backendName = (await choosing).name;
  }

  private async restoreModel(request: TrainerRequests['restoreModel']): Promise<TrainerReplies['restoreModel']> {
    if (this.run) throw new UserError('Training is running: wait for it to end, or press Stop, then load a model.');
    // After a lost GPU (WebGL context, WebGPU device) the backend must be chosen again (a fresh one, or the next backend).
    if (usesGpu(this.backendName) && this.backends.isContextLost()) this.backendName = null;
    await this.ensureBackend();
    return this.kept.restore(request, this.backendName ?? '');
  }

  /** Scores the kept model on the loaded dataset, as a run's end does, without training. */
  private async evaluateModel(id: number, batchSize: number): Promise<TrainerReplies['evaluateModel']> {
    const model = await this.servingModel('evaluate');
    if (!this.data)
      throw new UserError('Load a dataset first: the model is evaluated on its validation and test images.');
    const size = model.inputs[0].shape[1];
    if (size !== this.data.train.size)
      throw new UserError(`The model takes ${String(size)} px images; load the dataset at that Image size.`);
    const control = { stopRequested: false, superseded: false, contextLost: false };
    const progress = (p: TrainProgress) => this.send({ type: 'progress', id, progress: p });
    const { test, kept } = await evaluateFinal({ model, data: this.data, control, progress }, batchSize, {
      detector: this.kept.ood,
    });
    this.kept.evaluated = kept;
    return { test, scores: kept.scores };
  }

  /** The run's report; with test-time augmentation the splits are scored again first (once a kind, then kept). */
  private async report(request: TrainerRequests['evaluate']): Promise<EvaluationReport> {
    const run = this.evaluatedRun();
    const problem = checkEvalSettings(request.settings);
    if (problem) throw new UserError(problem);
    const kind = request.settings.testTimeAugmentation ?? 'off';
    if (!run.hasTtaScores(kind))
      await this.kept.scoreWithTta(await this.servingModel('evaluate'), run, this.data, kind);
    return run.report(request);
  }

  /** The report with the test split scored by the model adapted to it (computed once a run, then kept). */
  private async adaptedReport(request: TrainerRequests['adaptedReport']): Promise<EvaluationReport> {
    const model = await this.servingModel('evaluate');
    return this.kept.adaptedReport(model, this.evaluatedRun(), this.data, request);
  }

  // ---------------------------------------------------------------- training

  private async train(
    id: number,
    settings: TrainSettings,
    resume: ResumeFrom | null,
  ): Promise<TrainerReplies['train']> {
    if (this.run) throw new UserError('Training is already running. Press Stop first, or wait for it to end.');
    if (!this.data) throw new UserError('No dataset is loaded in the trainer yet: drop a dataset first.');
    const data = this.data;
    checkSettings(settings, data);

    const run: RunControl & { id: number } = {
      id,
      stopRequested: false,
      paused: false,
      superseded: false,
      contextLost: false,
    };
    this.run = run;
    let unwatch = () => {};
    try {
      await this.kept.settled();
      this.kept.discard();
      const choosing = this.backends.choose(settings.backend, {
        model: settings.model,
        imageSize: settings.imageSize,
        numClasses: data.classNames.length,
        batchSize: settings.batchSize,
      });
      // Work that needs a backend (previews, summaries) waits while one starts: tfjs refuses it meanwhile.
      this.backendSwitch = choosing.catch(() => undefined);
      const backend = await choosing;
      this.backendName = backend.name;
      this.send({
        type: 'progress',
        id,
        progress: { type: 'backend', name: backend.name, requested: settings.backend, note: backend.note },
      });
      unwatch = watchGpuLoss(run, this.backends, backend.name);
      return await trainModel(run, settings, data, backend.name, resume, {
        kept: this.kept,
        epsilon: this.backends.optimizerEpsilon(),
        progress: (p: TrainProgress) => this.send({ type: 'progress', id: run.id, progress: p }),
        now: this.now,
        heldWait: this.heldWait,
      });
    } catch (error) {
      this.kept.discard();
      if (run.contextLost || (await this.backends.confirmLoss?.()))
        throw new UserError(gpuLostMessage(this.backendName));
      throw error;
    } finally {
      unwatch();
      this.run = null;
    }
  }

  // ---------------------------------------------------------------- export

  private async exportModel(request: TrainerRequests['exportModel']): Promise<ExportedModel> {
    if (this.run)
      throw new UserError('Training is still running: wait for it to end, or press Stop, then download the model.');
    return this.kept.export(request);
  }
}
