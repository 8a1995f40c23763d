/**
 * Saved runs, in this browser's IndexedDB (through `idb`): nothing leaves the machine. A run is a small record
 * (settings, history, evaluation) plus model files kept apart, so listing runs never reads weights:
 * `checkpoint` (the last finished epoch, with the optimizer's state: Resume; with `snapshots`, a snapshot-ensemble
 * run's snapshots so far, model/snapshotFiles.ts), `best` (the best epoch so far: what a
 * crash or a reload mid-run still has) and `model` (the kept model of a finished run, or a loaded model file).
 * The dataset itself is never stored.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type {
  EpochMetrics,
  KeptScores,
  ModelFiles,
  EnsembleRun,
  ModelMetadata,
  Settings,
  TestResult,
  TrainingOutcome,
} from '../core/types';
import type { InputDecoding } from '../core/inputDecoding';
import { UserError, messageOf } from '../core/userError';
import { checkStoredModel, savedRunProblem, withSettingsItPredates } from './runRecord';

/** A run's curves and progress, as the page drew them. */
export interface SavedHistory {
  epochs: number;
  batchesPerEpoch: number;
  batchPoints: { x: number; loss: number; accuracy: number }[];
  epochPoints: (EpochMetrics & { x: number })[];
  epochsDone: number;
  classWeights: number[] | null;
  bestEpoch: number | null;
  outcome: TrainingOutcome | null;
}

export type ModelKind = 'checkpoint' | 'best' | 'model' | 'snapshots';

export interface SavedRun {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  /** The dataset's file or folder name (the images are not kept). */
  datasetName: string;
  classNames: string[];
  settings: Settings;
  /** The split the results are on. */
  evaluatedOn: 'test' | 'validation';
  /** `training` when last saved mid-run: found so after a reload, it was interrupted (a crash, a closed tab). */
  status: 'training' | 'done' | 'stopped' | 'loaded';
  history: SavedHistory;
  test: TestResult | null;
  scores: KeptScores | null;
  /** Figures for the list of runs. */
  figures: { bestValLoss: number | null; testAccuracy: number | null; testAuc: number | null };
  /** Which model files are stored. */
  models: ModelKind[];
  /** A loaded model file's metadata.json. */
  metadata?: ModelMetadata;
  /** The snapshot ensemble the run's model is (model/ensemble.ts); absent for a single model. */
  ensemble?: EnsembleRun;
  /**
   * How its training films were decoded (core/inputDecoding.ts), set when a run begins; absent for a run begun
   * before the page recorded it (2026-12-05), or a loaded model file (its metadata says).
   */
  inputDecoding?: InputDecoding;
}

interface Schema extends DBSchema {
  runs: { key: string; value: SavedRun; indexes: { updatedAt: string } };
  models: { key: string; value: ModelFiles };
}

const DB_NAME = 'xray-trainer';
const VERSION = 1;

const modelKey = (id: string, kind: ModelKind) => `${id}:${kind}`;

export class RunsDb {
  private constructor(private readonly db: IDBPDatabase<Schema>) {}

  /** Opens (or makes) the database; rejects in words when this browser keeps no IndexedDB (a private window in some browsers). */
  static async open(name = DB_NAME): Promise<RunsDb> {
    if (typeof indexedDB === 'undefined')
      throw new UserError(
        'This browser offers no storage (IndexedDB) to this page: runs are kept only until the tab closes.',
      );
    try {
      const db = await openDB<Schema>(name, VERSION, {
        upgrade(database) {
          const runs = database.createObjectStore('runs', { keyPath: 'id' });
          runs.createIndex('updatedAt', 'updatedAt');
          database.createObjectStore('models');
        },
      });
      return new RunsDb(db);
    } catch (error) {
      throw new UserError(
        `The browser's storage could not be opened (${messageOf(error)}): runs are kept only until the tab closes.`,
      );
    }
  }

  /** Every run, the latest first; records that are not runs of this version are left out (see listChecked). */
  async list(): Promise<SavedRun[]> {
    return (await this.listChecked()).runs;
  }

  /** Every run, the latest first, and a note for each record that could not be read (older, or changed outside the app). */
  async listChecked(): Promise<{ runs: SavedRun[]; skipped: string[] }> {
    const records: unknown[] = await this.db.getAllFromIndex('runs', 'updatedAt');
    const runs: SavedRun[] = [];
    const skipped: string[] = [];
    for (const stored of records.reverse()) {
      // The record itself when it passes, not a copy: fields this version does not know are kept.
      const record = withSettingsItPredates(stored);
      const problem = savedRunProblem(record);
      if (problem) skipped.push(problem);
      else runs.push(record as SavedRun);
    }
    return { runs, skipped };
  }

  /** A run's record; undefined when there is none, or it could not be read. */
  async get(id: string): Promise<SavedRun | undefined> {
    const record = withSettingsItPredates(await this.db.get('runs', id)) as SavedRun | undefined;
    return savedRunProblem(record) === null ? record : undefined;
  }

  /** Saves (or replaces) a run's record. */
  async put(run: SavedRun): Promise<void> {
    await guard(this.db.put('runs', run));
  }

  async rename(id: string, name: string): Promise<SavedRun | null> {
    const tx = this.db.transaction('runs', 'readwrite');
    const run = await tx.store.get(id);
    if (!run) return null;
    const renamed = { ...run, name };
    await tx.store.put(renamed);
    await tx.done;
    return renamed;
  }

  /** Removes a run and its model files. */
  async delete(id: string): Promise<void> {
    const tx = this.db.transaction(['runs', 'models'], 'readwrite');
    await Promise.all([
      tx.objectStore('runs').delete(id),
      ...(['checkpoint', 'best', 'model', 'snapshots'] as const).map((k) =>
        tx.objectStore('models').delete(modelKey(id, k)),
      ),
    ]);
    await tx.done;
  }

  /** Saves one of a run's model files (and notes it in the run's record, when there is one). */
  async putModel(id: string, kind: ModelKind, files: ModelFiles): Promise<void> {
    const tx = this.db.transaction(['runs', 'models'], 'readwrite');
    const runs = tx.objectStore('runs');
    await guard(tx.objectStore('models').put(files, modelKey(id, kind)));
    const stored = withSettingsItPredates(await runs.get(id)) as SavedRun | undefined;
    const run = savedRunProblem(stored) === null ? stored : null;
    if (run && !run.models.includes(kind)) await runs.put({ ...run, models: [...run.models, kind] });
    await guard(tx.done);
  }

  /**
   * Saves a run's record and model files in one transaction: a reload or a crash keeps all of them or none, so a
   * record never names an epoch whose checkpoint (or snapshots) are not the ones stored.
   */
  async putWithModels(run: SavedRun, models: [ModelKind, ModelFiles][]): Promise<void> {
    const tx = this.db.transaction(['runs', 'models'], 'readwrite');
    const kinds = [...new Set([...run.models, ...models.map(([kind]) => kind)])];
    await guard(
      Promise.all([
        ...models.map(([kind, files]) => tx.objectStore('models').put(files, modelKey(run.id, kind))),
        tx.objectStore('runs').put({ ...run, models: kinds }),
        tx.done,
      ]),
    );
  }

  /** A run's model files of a kind; undefined when there are none, or they are not what this app stores. */
  async getModel(id: string, kind: ModelKind): Promise<ModelFiles | undefined> {
    return checkStoredModel(await this.db.get('models', modelKey(id, kind))) ?? undefined;
  }

  close(): void {
    this.db.close();
  }
}

/** Bytes used and offered to this page, and whether the browser promised to keep them; null where not told. */
export interface StorageState {
  usage: number;
  quota: number;
  persisted: boolean;
}

export async function storageState(): Promise<StorageState | null> {
  if (typeof navigator === 'undefined' || !navigator.storage?.estimate) return null;
  const [estimate, persisted] = await Promise.all([
    navigator.storage.estimate(),
    navigator.storage.persisted?.() ?? Promise.resolve(false),
  ]);
  return { usage: estimate.usage ?? 0, quota: estimate.quota ?? 0, persisted };
}

/** Asks the browser not to clear the saved runs under storage pressure; resolves whether it agreed. */
export async function askToPersist(): Promise<boolean> {
  if (typeof navigator === 'undefined' || !navigator.storage?.persist) return false;
  try {
    return await navigator.storage.persist();
  } catch {
    return false;
  }
}

/** A full disk or quota in words a person can act on; other failures as they are. */
async function guard<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (error instanceof DOMException && error.name === 'QuotaExceededError') {
      throw new UserError(
        "The browser's storage for this page is full, so this run could not be saved: it stays in this tab until it closes. Delete old runs (Runs) or free disk space, and download the model to keep it.",
      );
    }
    throw error;
  }
}
