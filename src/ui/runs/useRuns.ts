/**
 * Saved runs for the page: opens the browser's storage, records every run (RunRecorder), brings the latest run
 * back after a reload, and offers the list's actions (open, rename, delete) and Resume's starting point.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ModelFiles } from '../../core/types';
import { checkModelFiles } from '../../data/modelWeightChecks';
import {
  RunsDb,
  askToPersist,
  storageState,
  type ModelKind,
  type SavedRun,
  type StorageState,
} from '../../storage/runsDb';
import type { ResumeFrom, TrainerReplies } from '../../worker/protocol';
import type { TrainingStore } from '../training/trainingStore';
import { decodingNoteOfRun } from './decodingNote';
import { RunRecorder, type RunInfo } from './runRecorder';
import { storedModelKind, unfinishedModelKind, unfinishedModelText } from './unfinishedModel';

export interface RunsApi {
  /** Saved runs, the latest first (empty while storage opens, or without storage). */
  runs: SavedRun[];
  /** The run the page shows (training, finished, restored or loaded); null before any. */
  current: SavedRun | null;
  storage: StorageState | null;
  /** A sentence about what was brought back from storage, for the page; null when nothing was. */
  restoredNote: string | null;
  /** Call before starting a new run. */
  begin(info: RunInfo): void;
  open(id: string): Promise<void>;
  rename(id: string, name: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Where Resume starts from for the current run; null (with the reason) when it cannot. */
  resumeFrom(): Promise<ResumeFrom | string>;
  /** The current run's model files of a kind (memory or storage). */
  modelFiles(kind: ModelKind): Promise<ModelFiles | null>;
  /** Makes a loaded model file a saved run, and the current one; `note` says what was loaded. */
  adopt(run: SavedRun, model: ModelFiles, note: string): Promise<void>;
  /** The current run's model was evaluated on a dataset without training. */
  recordEvaluation(
    reply: TrainerReplies['evaluateModel'],
    evaluatedOn: 'test' | 'validation',
    datasetName: string,
  ): void;
  /** A saved run's model (its kept one, else its best epoch's). */
  savedModel(id: string): Promise<ModelFiles | null>;
  /**
   * After a run failed (the worker died, the GPU was lost): brings its best epoch so far (its last finished one with
   * early stopping off: unfinishedModel.ts) back into the worker,
   * with its history. Resolves the run's record then, or null when no epoch had finished.
   */
  recoverAfterFailure(): Promise<SavedRun | null>;
}

/** What the page says of stored runs it skipped. */
function skippedNote(problems: string[]): string {
  const n = problems.length;
  return `${n} saved run${n === 1 ? '' : 's'} could not be read and ${n === 1 ? 'was' : 'were'} skipped (saved by an older version of the app, or changed outside it): ${problems.slice(0, 3).join('; ')}${n > 3 ? '; …' : ''}.`;
}

/** Why stored model files must not be used, or null. */
function storedModelProblem(files: ModelFiles): string | null {
  try {
    checkModelFiles(files, 'the stored model.json');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export function useRuns(store: TrainingStore, onProblem: (message: string) => void): RunsApi {
  const [runs, setRuns] = useState<SavedRun[]>([]);
  const [current, setCurrent] = useState<SavedRun | null>(null);
  const [storage, setStorage] = useState<StorageState | null>(null);
  const [restoredNote, setRestoredNote] = useState<string | null>(null);
  const db = useRef<RunsDb | null>(null);
  const recorder = useRef<RunRecorder | null>(null);
  /** The note on stored records that could not be read, said once with what was brought back. */
  const skipped = useRef('');
  const problem = useRef(onProblem);
  problem.current = onProblem;

  const refresh = useCallback(async () => {
    setCurrent(recorder.current?.run ?? null);
    if (!db.current) return;
    setRuns(await db.current.list());
    setStorage(await storageState());
  }, []);

  /** Shows a saved run: its model in the worker (for Predict, downloads, Resume) and its history and results. */
  const show = useCallback(
    async (run: SavedRun, why: 'reload' | 'opened') => {
      const kind = storedModelKind(run);
      const stored = kind && db.current ? ((await db.current.getModel(run.id, kind)) ?? null) : null;
      const damaged = stored ? storedModelProblem(stored) : null;
      const files = damaged ? null : stored;
      const interrupted = run.status === 'training';
      const shown: SavedRun = interrupted ? { ...run, status: 'stopped' } : run;
      recorder.current?.open(shown, files && kind ? { [kind]: files } : {});
      if (interrupted) await db.current?.put(shown);
      const view = run.status === 'loaded' ? null : { ...run.history, test: run.test };
      if (files) {
        await store.restore({
          files,
          model: run.settings.model,
          numClasses: run.classNames.length,
          scores: run.scores,
          view,
        });
      }
      const when = new Date(run.updatedAt).toLocaleString();
      const parts = [
        why === 'reload'
          ? `Brought back from this browser's storage: “${run.name}” (saved ${when}).`
          : `Opened “${run.name}” (saved ${when}).`,
        interrupted
          ? `It was interrupted after ${run.history.epochsDone} finished epoch${run.history.epochsDone === 1 ? '' : 's'} (the tab closed or the trainer stopped): ${files ? `${unfinishedModelText(run.settings, run.history)} is back; Resume training continues the run.` : 'no epoch had finished, so there is no model.'}`
          : '',
        run.status === 'loaded'
          ? ''
          : 'The dataset is not kept: load it again to resume training or to see its images.',
        damaged ? `Its saved model was not used: ${damaged}` : '',
        decodingNoteOfRun(run),
        skipped.current,
      ];
      skipped.current = '';
      setRestoredNote(parts.filter(Boolean).join(' '));
      await refresh();
    },
    [store, refresh],
  );

  useEffect(() => {
    let live = true;
    const report = (message: string) => problem.current(message);
    void (async () => {
      let opened: RunsDb | null = null;
      try {
        opened = await RunsDb.open();
      } catch (error) {
        report(error instanceof Error ? error.message : String(error));
      }
      if (!live) {
        opened?.close();
        return;
      }
      db.current = opened;
      recorder.current = new RunRecorder(store, opened, report, () => void refresh());
      if (!opened) return;
      const listed = await opened.listChecked();
      const latest = listed.runs[0];
      if (listed.skipped.length > 0) skipped.current = skippedNote(listed.skipped);
      if (!latest && skipped.current) setRestoredNote(skipped.current);
      try {
        if (latest) await show(latest, 'reload');
        else await refresh();
      } catch (error) {
        report(
          `The last saved run could not be brought back: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    })();
    return () => {
      live = false;
      recorder.current?.dispose();
      recorder.current = null;
      db.current?.close();
      db.current = null;
    };
  }, [store, refresh, show]);

  return {
    runs,
    current,
    storage,
    restoredNote,
    begin: (info) => {
      recorder.current?.begin(info);
      setRestoredNote(null);
      setCurrent(recorder.current?.run ?? null);
      // Asked once there is something worth keeping; browsers may grant it silently or not at all.
      void askToPersist().then(() => refresh());
    },
    open: async (id) => {
      const run = await db.current?.get(id);
      if (run) await show(run, 'opened');
    },
    rename: async (id, name) => {
      const renamed = await db.current?.rename(id, name);
      if (renamed && recorder.current?.run?.id === id) recorder.current.open(renamed);
      await refresh();
    },
    remove: async (id) => {
      await db.current?.delete(id);
      await refresh();
    },
    resumeFrom: async () => {
      const r = recorder.current;
      const run = r?.run;
      if (!r || !run) return 'There is no run to resume: train one first.';
      const checkpoint = await r.modelFiles('checkpoint');
      if (!checkpoint)
        return 'This run has no saved epoch to resume from (a loaded model file, or a run stopped before its first epoch ended).';
      const { bestEpoch, epochPoints, epochsDone, batchesPerEpoch } = run.history;
      const bestPoint = bestEpoch === null ? undefined : epochPoints.find((p) => p.epoch === bestEpoch);
      const bestFiles = bestPoint ? await r.modelFiles('best') : null;
      // Checked against the model in the worker (model/snapshotFiles.ts), like every stored byte.
      const ensembleRun = (run.settings.snapshots ?? 1) > 1 || (run.settings.seedModels ?? 1) > 1;
      // A seed ensemble's finished members are stored as snapshots are.
      const snapshots = ensembleRun ? await r.modelFiles('snapshots') : null;
      return {
        snapshots,
        checkpoint,
        epochsDone,
        batchesDone: epochsDone * batchesPerEpoch,
        best: bestPoint && bestFiles ? { epoch: bestPoint.epoch, valLoss: bestPoint.valLoss, files: bestFiles } : null,
      };
    },
    modelFiles: async (kind) => (await recorder.current?.modelFiles(kind)) ?? null,
    recordEvaluation: (reply, evaluatedOn, datasetName) =>
      recorder.current?.recordEvaluation(reply.test, reply.scores, evaluatedOn, datasetName, store.getSnapshot()),
    savedModel: async (id) => {
      const saved = await db.current?.get(id);
      if (!saved || !db.current)
        return recorder.current?.run?.id === id
          ? ((await recorder.current.modelFiles('model')) ??
              (await recorder.current.modelFiles(unfinishedModelKind(recorder.current.run.settings))))
          : null;
      const kind = storedModelKind(saved);
      return kind ? ((await db.current.getModel(id, kind)) ?? null) : null;
    },
    recoverAfterFailure: async () => {
      const r = recorder.current;
      const run = r?.run;
      const kept = run ? await r!.modelFiles(unfinishedModelKind(run.settings)) : null;
      if (!run || !kept) return null;
      await store.restore({
        files: kept,
        model: run.settings.model,
        numClasses: run.classNames.length,
        scores: null,
        view: { ...run.history, test: null },
      });
      return run;
    },
    adopt: async (run, model, note) => {
      await recorder.current?.adopt(run, model);
      setRestoredNote(note);
      await refresh();
    },
  };
}
