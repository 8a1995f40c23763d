/**
 * Keeps the current run saved as it goes: the record and checkpoint after every finished epoch, the results and
 * the kept model at the end. It also holds the latest files in memory, so Resume and a crashed worker need no
 * storage at all, and a full disk costs the saving, never the run. No React inside (tested in Node).
 */
import { INPUT_DECODING } from '../../core/inputDecoding';
import type { KeptScores, ModelFiles, Settings, TestResult } from '../../core/types';
import { binaryScores, defaultPositiveClass, rocAuc } from '../../eval/metrics';
import type { ModelKind, RunsDb, SavedHistory, SavedRun } from '../../storage/runsDb';
import type { RunEvent, TrainingStore } from '../training/trainingStore';
import type { TrainingView } from '../training/trainingState';

/** What the page knows of a run when it starts it. */
export interface RunInfo {
  datasetName: string;
  classNames: string[];
  settings: Settings;
  evaluatedOn: 'test' | 'validation';
}

export class RunRecorder {
  /** The run being recorded (or the last one); its record as last written. */
  private current: SavedRun | null = null;
  /** The latest model files of the current run, by kind, whether or not they could be stored. */
  private readonly files = new Map<ModelKind, ModelFiles>();
  /** Saves in order, one after another: a record never overtakes the one before. */
  private queue: Promise<void> = Promise.resolve();
  private readonly unsubscribe: () => void;

  constructor(
    store: TrainingStore,
    private readonly db: RunsDb | null,
    private readonly onProblem: (message: string) => void,
    /** After every change of the current record and every save, for the page and the list of runs. */
    private readonly onSaved: () => void,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.unsubscribe = store.onRunEvent((event) => this.handle(event));
  }

  /** The run saved last (being recorded, finished, or opened from the list). */
  get run(): SavedRun | null {
    return this.current;
  }

  /** The current run's model files of this kind: from memory, else from storage. */
  async modelFiles(kind: ModelKind): Promise<ModelFiles | null> {
    const inMemory = this.files.get(kind);
    if (inMemory) return inMemory;
    if (!this.current || !this.db || !this.current.models.includes(kind)) return null;
    return (await this.db.getModel(this.current.id, kind)) ?? null;
  }

  /** A new run starts: call before the store's `train` (not for a resumed one, which goes on in its record). */
  begin(info: RunInfo): void {
    const at = this.now().toISOString();
    this.files.clear();
    this.current = {
      id: `${at}-${Math.random().toString(36).slice(2, 8)}`,
      name: `${info.settings.model} ${info.settings.imageSize} px, ${at.slice(0, 16).replace('T', ' ')}`,
      createdAt: at,
      updatedAt: at,
      datasetName: info.datasetName,
      classNames: info.classNames,
      settings: info.settings,
      evaluatedOn: info.evaluatedOn,
      status: 'training',
      history: emptyHistory(),
      test: null,
      scores: null,
      figures: { bestValLoss: null, testAccuracy: null, testAuc: null },
      models: [],
      inputDecoding: INPUT_DECODING,
    };
  }

  /** Makes a saved (or just loaded) run the current one: Resume and downloads then use its files. */
  open(run: SavedRun, files: Partial<Record<ModelKind, ModelFiles>> = {}): void {
    this.current = run;
    this.files.clear();
    for (const [kind, f] of Object.entries(files) as [ModelKind, ModelFiles][]) this.files.set(kind, f);
  }

  /** Saves a run that did not come from training here (a loaded model file) and makes it current. */
  adopt(run: SavedRun, model: ModelFiles): Promise<void> {
    this.open(run, { model });
    return this.save(run, [['model', model]]);
  }

  /** The current run's model was scored on a dataset without training (a loaded model, a restored run). */
  recordEvaluation(
    test: TestResult,
    scores: KeptScores,
    evaluatedOn: 'test' | 'validation',
    datasetName: string,
    view: TrainingView,
  ): void {
    const run = this.current;
    if (!run) return;
    this.update({
      ...run,
      test,
      scores,
      evaluatedOn,
      datasetName: run.status === 'loaded' ? datasetName : run.datasetName,
      figures: figuresOf(view, run.classNames),
    });
  }

  dispose(): void {
    this.unsubscribe();
  }

  /** Settles when every save asked for so far is done. */
  settled(): Promise<void> {
    return this.queue;
  }

  private handle(event: RunEvent): void {
    const run = this.current;
    if (!run) return;
    switch (event.type) {
      case 'started':
        // A seed ensemble's epochs are each member's (the worker goes on in the member it was in).
        if (event.resumed)
          this.update({
            ...run,
            status: 'training',
            settings: {
              ...run.settings,
              ...event.settings,
              epochs:
                (event.settings.seedModels ?? 1) > 1
                  ? event.settings.epochs
                  : run.history.epochsDone + event.settings.epochs,
            },
          });
        return;
      case 'epoch': {
        this.files.set('checkpoint', event.checkpoint);
        const best = event.view.bestEpoch === event.epoch;
        if (best) this.files.set('best', event.checkpoint);
        // A snapshot-ensemble run's snapshots so far, when this epoch ended a cycle: Resume needs them all.
        if (event.snapshots) this.files.set('snapshots', event.snapshots);
        this.update({ ...run, history: historyOf(event.view), figures: figuresOf(event.view, run.classNames) }, [
          ['checkpoint', event.checkpoint],
          ...(best ? [['best', event.checkpoint] as [ModelKind, ModelFiles]] : []),
          ...(event.snapshots ? [['snapshots', event.snapshots] as [ModelKind, ModelFiles]] : []),
        ]);
        return;
      }
      case 'ended': {
        const { reply, view } = event;
        if (reply.model) this.files.set('model', reply.model);
        this.update(
          {
            ...run,
            status: reply.reason === 'stopped' ? 'stopped' : 'done',
            history: historyOf(view),
            test: reply.test,
            scores: reply.scores,
            figures: figuresOf(view, run.classNames),
            ...(reply.ensemble ? { ensemble: reply.ensemble } : {}),
          },
          reply.model ? [['model', reply.model]] : [],
        );
        return;
      }
      case 'failed':
        // The finished epochs stay saved (checkpoint, best); the record says the run did not end.
        this.update({ ...run, status: 'stopped', history: historyOf(event.view) });
        return;
    }
  }

  private update(run: SavedRun, models: [ModelKind, ModelFiles][] = []): void {
    const next = {
      ...run,
      updatedAt: this.now().toISOString(),
      models: [...new Set([...run.models, ...models.map(([k]) => k)])],
    };
    // Quiet while a run trains: an epoch's save must not re-render the page (the Runs list, the hints) mid-run.
    const quiet = run.status === 'training' && this.current?.status === 'training';
    this.current = next;
    if (!quiet) this.onSaved();
    void this.save(next, models, quiet);
  }

  private save(run: SavedRun, models: [ModelKind, ModelFiles][], quiet = false): Promise<void> {
    const db = this.db;
    if (!db) return this.queue;
    this.queue = this.queue.then(async () => {
      try {
        // One transaction: the record's epochs, the checkpoint and the snapshots stored are always of one epoch.
        await db.putWithModels(run, models);
        if (!quiet) this.onSaved();
      } catch (error) {
        this.onProblem(error instanceof Error ? error.message : String(error));
      }
    });
    return this.queue;
  }
}

export function emptyHistory(): SavedHistory {
  return {
    epochs: 0,
    batchesPerEpoch: 0,
    batchPoints: [],
    epochPoints: [],
    epochsDone: 0,
    classWeights: null,
    bestEpoch: null,
    outcome: null,
  };
}

/** The history a record keeps: at most this many batch points (the curves merge older ones anyway). */
const MAX_BATCH_POINTS = 2000;

export function historyOf(view: TrainingView): SavedHistory {
  const { epochs, batchesPerEpoch, batchPoints, epochPoints, epochsDone, classWeights, bestEpoch, outcome } = view;
  const step = Math.ceil(batchPoints.length / MAX_BATCH_POINTS);
  return {
    epochs,
    batchesPerEpoch,
    batchPoints: step > 1 ? batchPoints.filter((_, i) => i % step === 0) : batchPoints,
    epochPoints,
    epochsDone,
    classWeights,
    bestEpoch,
    outcome,
  };
}

/**
 * The figures stored with a record: the worker's accuracy (at 0.5, or the most probable class) and AUC. The Runs list
 * shows them only for a run that kept no scores; otherwise it works out the Results' figures (runFigures.ts).
 */
function figuresOf(view: TrainingView, classNames: string[]): SavedRun['figures'] {
  const best = view.bestEpoch === null ? null : (view.epochPoints.find((p) => p.epoch === view.bestEpoch) ?? null);
  const test = view.test;
  let testAuc: number | null = null;
  if (test && test.labels.length > 0) {
    const positive = defaultPositiveClass(classNames);
    const scores = binaryScores(test, positive);
    const auc = rocAuc(scores, test.labels, positive);
    testAuc = Number.isFinite(auc) ? auc : null;
  }
  return { bestValLoss: best ? best.valLoss : null, testAccuracy: test ? test.accuracy : null, testAuc };
}
