/**
 * The page's training state as an external store (no React inside): it drives the TrainerClient and
 * reduces the replies and progress of its requests into one TrainingView, which React reads through
 * `useSyncExternalStore` (useTrainer.ts). Only the current run's messages change the run's state.
 */
import type {
  EvalSettings,
  IntensityNormalisation,
  ModelFiles,
  ModelName,
  ModelSummary,
  Splits,
  TrainSettings,
} from '../../core/types';
import type {
  AugmentationPreview,
  ExportedModel,
  Predictions,
  ResumeFrom,
  TrainerReplies,
  TrainerRequestOf,
  TrainerRequests,
} from '../../worker/protocol';
import { TrainerCrashedError, type TrainerClient } from '../../worker/trainerClient';
import {
  initialTrainingView,
  trainingReducer,
  type RestoredView,
  type TrainingAction,
  type TrainingView,
} from './trainingState';

/** What happens to a run, for whoever keeps runs (the saved-runs recorder): the view is the store's at that moment. */
export type RunEvent =
  | { type: 'started'; settings: TrainSettings; resumed: boolean }
  /** An epoch has finished: its checkpoint (weights and optimizer state) and the view with its figures. */
  | { type: 'epoch'; epoch: number; checkpoint: ModelFiles; snapshots?: ModelFiles; view: TrainingView }
  | { type: 'ended'; reply: TrainerReplies['train']; view: TrainingView }
  | { type: 'failed'; message: string; view: TrainingView };

/** A saved run (or a loaded model) for the worker and the view. */
export interface RestoreRequest extends Omit<TrainerRequests['restoreModel'], 'epochs'> {
  view: RestoredView | null;
}

export class TrainingStore {
  private view: TrainingView = initialTrainingView;
  private readonly listeners = new Set<() => void>();
  /** The id of the train request whose run the view shows; null when none is going. */
  private runId: number | null = null;
  /** The latest summary asked for: an older answer arriving late is dropped. */
  private summaryId = 0;
  private readonly runListeners = new Set<(event: RunEvent) => void>();
  /** When the listeners last heard of a change, and the timer that will tell them of a batch's, if one waits. */
  private notifiedAt = -Infinity;
  private notifyTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly client: TrainerClient,
    private readonly now: () => number = () => performance.now(),
    /**
     * The page redraws for a batch's progress at most this often (ms); for anything else at once. Why: at small
     * image sizes a batch takes tens of ms, and redrawing the curves after each one took the page's thread a
     * core's share that the training threads need on a machine of few cores. Five redraws a second still look live.
     */
    private readonly batchRedrawMs = 200,
  ) {
    // A dead worker takes the dataset and the model with it; the next request starts a bare one.
    client.onCrash(() => this.dispatch({ type: 'workerData', ready: false }));
  }

  // ---------------------------------------------------------------- for useSyncExternalStore

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): TrainingView => this.view;

  // ---------------------------------------------------------------- requests

  /** Hands a decoded dataset to the worker (its buffers are transferred: the page keeps none). */
  setData(splits: Splits): Promise<void> {
    return this.client.request({ type: 'setData', splits }).then(
      () => this.dispatch({ type: 'workerData', ready: true }),
      (error: unknown) => this.dispatch({ type: 'requestFailed', message: messageOf(error) }),
    );
  }

  /** Asks for the summary of this model at this size; the latest request's answer is shown. */
  describeModel(
    model: ModelName,
    imageSize: number,
    numClasses: number,
    intensityNormalisation: IntensityNormalisation = 'none',
    members = 1,
  ): Promise<ModelSummary | null> {
    const pending = this.client.start({
      type: 'describeModel',
      model,
      imageSize,
      numClasses,
      intensityNormalisation,
      ...(members > 1 ? { members } : {}),
    });
    this.summaryId = pending.id;
    return pending.reply.then(
      (reply) => {
        if (pending.id === this.summaryId)
          this.dispatch({
            type: 'modelSummary',
            model: reply.model,
            imageSize: reply.imageSize,
            summary: reply.summary,
          });
        return reply.summary;
      },
      (error: unknown) => {
        if (pending.id === this.summaryId) this.dispatch({ type: 'requestFailed', message: messageOf(error) });
        return null;
      },
    );
  }

  /** Tells `listener` what happens to every run from now on; returns a function that stops it. */
  onRunEvent(listener: (event: RunEvent) => void): () => void {
    this.runListeners.add(listener);
    return () => this.runListeners.delete(listener);
  }

  /**
   * Starts a run, or with `resume` continues the one the checkpoint came from for `settings.epochs` more epochs
   * (its history stays); resolves when it has ended, failed or been replaced.
   */
  async train(settings: TrainSettings, resume?: ResumeFrom): Promise<void> {
    this.dispatch({ type: resume ? 'resumeRequested' : 'trainRequested' });
    this.emit({ type: 'started', settings, resumed: Boolean(resume) });
    const pending = this.client.start({ type: 'train', settings, ...(resume ? { resume } : {}) }, (progress) => {
      if (pending.id !== this.runId) return;
      if (progress.type === 'checkpoint')
        this.emit({
          type: 'epoch',
          epoch: progress.epoch,
          checkpoint: progress.files,
          ...(progress.snapshots ? { snapshots: progress.snapshots } : {}),
          view: this.view,
        });
      else this.dispatch({ type: 'progress', progress, at: this.now() }, progress.type === 'batchEnd');
    });
    this.runId = pending.id;
    try {
      const reply = await pending.reply;
      if (pending.id === this.runId) {
        this.dispatch({ type: 'trainEnded', reply });
        this.emit({ type: 'ended', reply, view: this.view });
      }
    } catch (error) {
      if (pending.id === this.runId) {
        this.dispatch({ type: 'runFailed', message: messageOf(error) });
        this.emit({ type: 'failed', message: messageOf(error), view: this.view });
      }
    } finally {
      if (pending.id === this.runId) this.runId = null;
    }
  }

  /**
   * Makes a saved run's model (or a loaded model file) the worker's, and shows the run's history and results as
   * they were; rejects with the worker's words when the files are not a model it can use.
   */
  async restore({ view, ...request }: RestoreRequest): Promise<TrainerReplies['restoreModel']> {
    const reply = await this.client.request({ type: 'restoreModel', ...request, epochs: view?.epochsDone ?? 0 });
    this.summaryId++;
    this.dispatch({
      type: 'modelSummary',
      model: request.model ?? 'tutorial',
      imageSize: reply.imageSize,
      summary: reply.summary,
    });
    this.dispatch({ type: 'restored', view });
    return reply;
  }

  /** The worker's model's scores (and Grad-CAM maps) for some images. */
  predict(request: Omit<TrainerRequestOf<'predict'>, 'type'>): Promise<Predictions> {
    return this.client.request({ type: 'predict', ...request });
  }

  /** Scores the worker's model on the loaded dataset (no training) and shows the results. */
  async evaluateModel(batchSize: number): Promise<TrainerReplies['evaluateModel'] | null> {
    try {
      const reply = await this.client.request({ type: 'evaluateModel', batchSize });
      this.dispatch({ type: 'evaluated', test: reply.test });
      return reply;
    } catch (error) {
      this.dispatch({ type: 'requestFailed', message: messageOf(error) });
      return null;
    }
  }

  /** Ends the current run after its current batch; the model is kept. */
  stop(): void {
    if (this.runId === null) return;
    this.dispatch({ type: 'stopRequested' });
    // Stopping a run that has just ended is harmless: the worker says there was nothing to stop.
    this.client.request({ type: 'stop', run: this.runId }).catch(() => undefined);
  }

  /** Holds the current run after its current batch, or lets it go on. */
  pause(paused: boolean): void {
    if (this.runId === null) return;
    this.dispatch({ type: 'paused', paused });
    this.client.request({ type: 'pause', run: this.runId, paused }).catch(() => undefined);
  }

  /** The trained model's files; rejects with the worker's words (e.g. training still running). */
  exportModel(request: Omit<TrainerRequestOf<'exportModel'>, 'type'> = {}): Promise<ExportedModel> {
    return this.client.request({ type: 'exportModel', ...request });
  }

  /** Augmented samples; a failure rejects this promise alone and leaves any run going. */
  previewAugmentation(request: Omit<TrainerRequestOf<'previewAugmentation'>, 'type'>): Promise<AugmentationPreview> {
    return this.client.request({ type: 'previewAugmentation', ...request });
  }

  /**
   * The last run's report (operating point chosen on validation, intervals, calibration) for this positive class
   * and these settings, computed in the worker; rejects with the worker's words (e.g. no trained model).
   */
  evaluate(positiveClass: number, settings: EvalSettings): Promise<TrainerReplies['evaluate']['report']> {
    return this.client.request({ type: 'evaluate', positiveClass, settings }).then((reply) => reply.report);
  }

  /** The report with test scored by the model adapted to the test images (BatchNorm re-estimated). */
  adaptedReport(positiveClass: number, settings: EvalSettings): Promise<TrainerReplies['adaptedReport']['report']> {
    return this.client.request({ type: 'adaptedReport', positiveClass, settings }).then((reply) => reply.report);
  }

  /** A sample of the evaluated split scored under each acquisition shift (worker/shiftCheck.ts). */
  shiftCheck(): Promise<TrainerReplies['shiftCheck']['check']> {
    return this.client.request({ type: 'shiftCheck' }).then((reply) => reply.check);
  }

  /** The pixels of some images of the evaluated split (a confusion-matrix cell's), by index. */
  evaluatedImages(indices: number[]): Promise<TrainerReplies['evaluatedImages']> {
    return this.client.request({ type: 'evaluatedImages', indices });
  }

  dismissError(): void {
    this.dispatch({ type: 'dismissError' });
  }

  /** A new dataset: the previous run's figures no longer apply. */
  reset(): void {
    this.dispatch({ type: 'reset' });
  }

  /** Another dataset: the results on the old one go; the model and its history stay for Predict and Resume. */
  datasetChanged(): void {
    this.dispatch({ type: 'datasetChanged' });
  }

  /** Ends the worker (the page is going away); a later request starts a new one. */
  dispose(): void {
    if (this.notifyTimer !== null) clearTimeout(this.notifyTimer);
    this.notifyTimer = null;
    this.client.dispose();
  }

  private emit(event: RunEvent): void {
    for (const listener of this.runListeners) listener(event);
  }

  /** Reduces `action` into the view (read at once by getSnapshot); tells the listeners now, or a batch's change within batchRedrawMs. */
  private dispatch(action: TrainingAction, batch = false): void {
    const next = trainingReducer(this.view, action);
    if (next === this.view) return;
    this.view = next;
    const since = this.now() - this.notifiedAt;
    if (!batch || since >= this.batchRedrawMs) this.notify();
    else this.notifyTimer ??= setTimeout(() => this.notify(), this.batchRedrawMs - since);
  }

  private notify(): void {
    if (this.notifyTimer !== null) clearTimeout(this.notifyTimer);
    this.notifyTimer = null;
    this.notifiedAt = this.now();
    for (const listener of this.listeners) listener();
  }
}

function messageOf(error: unknown): string {
  if (error instanceof TrainerCrashedError) {
    return `${error.message} Whatever it held is gone: load the dataset again to train.`;
  }
  return error instanceof Error ? error.message : String(error);
}
