import { useCallback, useDeferredValue, useEffect, useMemo, useState } from 'react';
import type { Settings, Splits } from '../core/types';
import type { ReportedThreshold } from '../eval/report';
import { defaultPositiveClass } from '../eval/metrics';
import { DatasetSummary } from './dataset/DatasetSummary';
import { DatasetHealth } from './dataset/DatasetHealth';
import { DropZone } from './dataset/DropZone';
import { DisplayWindowContext } from './common/DisplayWindowControl';
import { FULL_WINDOW, type DisplayWindow } from './common/displayWindow';
import { AlertBox } from './common/AlertBox';
import { Masthead } from './Masthead';
import { LoadingBar } from './dataset/LoadingBar';
import { SampleGrid } from './common/SampleGrid';
import { useAugmentationPreview } from './training/AugmentedSamples';
import { ModelSection } from './ModelSection';
import { useModelTransfer } from './useModelTransfer';
import { DEFAULT_SETTINGS, checkSetting, settingsFromQuery, settingsToQuery } from './training/urlSettings';
import { Evaluation } from './results/Evaluation';
import { TrainingPanel } from './training/TrainingPanel';
import { sourceOf, useDataset, type DatasetView } from './dataset/useDataset';
import { useTrainer } from './training/useTrainer';
import { usePageTrainingView } from './usePageTrainingView';
import { useDatasetLoading } from './useDatasetLoading';
import { runActions } from './runActions';
import { reloadReason } from './dataset/datasetOptions';
import { pageStatus } from './pageStatus';
import { useRuns } from './runs/useRuns';
import { useFailureRecovery } from './runs/useFailureRecovery';
import { evaluateProblem, resumeProblem, snapshotResumeText } from './runs/runHints';
import { RunsPanel } from './runs/RunsPanel';
import { ModelActions } from './runs/ModelActions';
import { PredictPanel } from './predict/PredictPanel';
import { useStableCallback } from './common/useStableCallback';
import { decisionOf } from './predict/predictionRows';
import type { ExplainImage } from './results/MisclassifiedGallery';
import { EvaluatedOodSummary } from './common/OodSummary';
import { ensembleText, plannedMembers, seedPlan, snapshotPlan } from '../core/ensemble';

export function App() {
  const initial = useMemo(() => settingsFromQuery(window.location.search, DEFAULT_SETTINGS), []);
  const [settings, setSettings] = useState<Settings>(initial.settings);
  const [notice, setNotice] = useState<string | null>(initial.problems.length ? initial.problems.join(' ') : null);
  // What the page shows of grey images (display only): one window for samples and predictions.
  const [displayWindow, setDisplayWindow] = useState<DisplayWindow>(FULL_WINDOW);
  const displayWindowState = useMemo(() => ({ window: displayWindow, setWindow: setDisplayWindow }), [displayWindow]);
  // An image of the Results to see in Predict with its heatmap.
  const [explain, setExplain] = useState<ExplainImage | null>(null);
  // The operating point the Results report, for the downloaded metadata.
  const [reported, setReported] = useState<ReportedThreshold | null>(null);
  const trainer = useTrainer();
  const { store } = trainer;
  const runs = useRuns(store, setNotice);
  // The run the page shows: being trained, finished, restored after a reload, opened from Runs, or a loaded model.
  const run = runs.current;

  const onDecoded = useCallback((splits: Splits) => void store.setData(splits), [store]);
  const dataset = useDataset(onDecoded);
  const view: DatasetView | null =
    dataset.state.phase === 'ready'
      ? dataset.state.view
      : dataset.state.phase === 'loading'
        ? dataset.state.previous
        : null;
  const numClasses = view?.classNames.length ?? 2;
  // Made by the worker from its copy of the train split: asked again for a new dataset or new settings.
  const sampleIndices = useMemo(() => view?.samples.map((s) => s.trainIndex) ?? null, [view]);
  const augmentationPreview = useAugmentationPreview(store, sampleIndices, settings.augmentation, setNotice);

  // The URL keeps the settings, so a page reload or a shared link trains the same way.
  useEffect(() => {
    const query = settingsToQuery(settings);
    if (query !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}${query}`);
  }, [settings]);

  // The model summary follows the chosen model, the image size and the number of classes, and shows the model that
  // will be saved: an ensemble's stacked K-member network.
  const members = plannedMembers(settings, numClasses);
  useEffect(() => {
    if (checkSetting('imageSize', settings.imageSize) !== null) return;
    const timer = setTimeout(
      () =>
        void store.describeModel(
          settings.model,
          settings.imageSize,
          numClasses,
          settings.intensityNormalisation,
          members,
        ),
      250,
    );
    return () => clearTimeout(timer);
  }, [store, settings.model, settings.imageSize, numClasses, settings.intensityNormalisation, members]);

  // Only what the page itself shows: each batch re-renders the training panel alone.
  const t = usePageTrainingView(store);
  // The Results mount in a render React may interrupt: from the store they would render in one task (130 ms here).
  const results = useDeferredValue(t.test);
  const training = t.phase === 'starting' || t.phase === 'training' || t.phase === 'evaluating';
  const loading = dataset.state.phase === 'loading';

  const { labels, loadNew, applyLabels } = useDatasetLoading({ dataset, view, store, settings, setNotice });

  const { onTrain, onResume, onEvaluate } = runActions({ dataset, view, store, runs, settings, setNotice });

  useFailureRecovery(store, runs, onResume, setNotice);

  const { exporting, onDownload, onLoadModel, onDownloadRun } = useModelTransfer({
    store,
    runs,
    view,
    reported,
    epochsDone: t.epochsDone,
    settings,
    setNotice,
  });

  const status = pageStatus(dataset.state.phase, t.phase, Boolean(dataset.error || t.error), t.paused);
  const modelSize = t.modelSummary?.imageSize ?? run?.settings.imageSize ?? null;
  const evaluateHint = evaluateProblem(run, view, modelSize, t.dataReady);
  const resumeHint = resumeProblem(run, view, t.dataReady, training || loading);
  // What an ensemble fell back to (fewer members, or one model), in words beside the Results.
  const snapshotNote = run
    ? (snapshotPlan(run.settings.snapshots ?? 1, run.settings.epochs, run.classNames.length).note ??
      seedPlan(run.settings.seedModels ?? 1, run.classNames.length).note)
    : null;
  const positiveClass = reported?.positiveClass ?? defaultPositiveClass(run?.classNames ?? ['a', 'b']);
  // The Results' operating point; for a loaded model, the one its metadata says the figures used.
  const decision = useMemo(
    () => decisionOf(reported, run?.metadata ?? null, run?.classNames ?? [], positiveClass),
    [reported, run?.metadata, run?.classNames, positiveClass],
  );
  // Stable callbacks for the memoised panels: a page render (a loading progress, a batch) need not re-render them.
  const trainClicked = useStableCallback(() => void onTrain());
  const pauseClicked = useStableCallback((p: boolean) => store.pause(p));
  const stopClicked = useStableCallback(() => store.stop());
  const openRun = useStableCallback(
    (id: string) =>
      void runs
        .open(id)
        .catch((e: unknown) => setNotice(`The run could not be opened: ${e instanceof Error ? e.message : String(e)}`)),
  );
  const renameRun = useStableCallback((id: string, name: string) => void runs.rename(id, name));
  const deleteRun = useStableCallback((id: string) => void runs.remove(id));
  const downloadRun = useStableCallback((id: string) => void onDownloadRun(id));
  const alerts = [dataset.error, t.error, notice].filter((a): a is string => Boolean(a));
  const trainHint = !view ? 'Load a dataset first.' : reloadReason(view, settings);

  return (
    <DisplayWindowContext.Provider value={displayWindowState}>
      <Masthead status={status} restoredNote={runs.restoredNote} />

      <main>
        <AlertBox
          messages={alerts}
          onDismiss={() => {
            dataset.dismissError();
            store.dismissError();
            setNotice(null);
          }}
        />

        <DropZone
          disabled={training}
          onFiles={(files) => void loadNew(sourceOf(files))}
          onFolder={(name, entries) =>
            void entries.then(
              (list) => loadNew({ kind: 'entries', name, entries: list }),
              (e: unknown) =>
                setNotice(`The dropped folder could not be read: ${e instanceof Error ? e.message : String(e)}`),
            )
          }
          onDemo={() => void loadNew({ kind: 'demo' })}
          labelsName={labels?.name ?? null}
          onLabels={(file) => void applyLabels(file)}
          onClearLabels={() => void applyLabels(null)}
        />
        {dataset.state.phase === 'loading' && (
          <LoadingBar
            progress={dataset.state.progress}
            sourceName={dataset.state.source.kind === 'demo' ? 'demo dataset' : dataset.state.source.name}
            onCancel={dataset.cancel}
          />
        )}

        {view && (
          <>
            <DatasetSummary view={view} />
            <DatasetHealth health={view.health} classNames={view.classNames} groupBy={view.groupBy} />
            <section className="panel" aria-label="Samples">
              <SampleGrid samples={view.samples} size={view.size} />
            </section>
          </>
        )}

        <ModelSection
          settings={settings}
          onChange={setSettings}
          canTrain={Boolean(view) && !loading}
          training={training}
          stopRequested={t.stopRequested}
          paused={t.paused}
          onPause={pauseClicked}
          onTrain={trainClicked}
          onStop={stopClicked}
          trainHint={trainHint}
          numClasses={numClasses}
          augmentation={view ? { preview: augmentationPreview.preview, pending: augmentationPreview.pending } : null}
          modelSummary={t.modelSummary}
        />

        <section className="panel" aria-labelledby="training-heading">
          <h2 id="training-heading">4. Training</h2>
          <TrainingPanel
            store={store}
            batchSize={run?.settings.batchSize ?? settings.batchSize}
            classNames={run?.classNames ?? view?.classNames ?? []}
          />
        </section>

        <section className="panel" aria-labelledby="results-heading">
          <h2 id="results-heading">5. Results</h2>
          {results && run ? (
            <>
              <Evaluation
                result={results}
                splitName={run.evaluatedOn}
                paths={(run.evaluatedOn === 'test' ? view?.testPaths : view?.validationPaths) ?? []}
                classNames={run.classNames}
                store={store}
                evalSettings={settings}
                onReported={setReported}
                onExplain={setExplain}
              />
              <EvaluatedOodSummary scores={run.scores} />
              {run.ensemble && <p data-testid="ensemble-summary">{ensembleText(run.ensemble)}</p>}
              {snapshotNote && <p data-testid="ensemble-note">{snapshotNote}</p>}
            </>
          ) : (
            <p>
              {t.phase === 'evaluating'
                ? 'Evaluating on the held-out images…'
                : 'Train a model to see how it does on images it has never seen.'}
            </p>
          )}
          <ModelActions
            canDownload={t.hasModel && Boolean(run) && !training}
            downloading={exporting}
            onDownload={(format) => void onDownload(format)}
            canLoad={!training}
            onLoad={(files) => void onLoadModel(files)}
            showEvaluate={t.hasModel && !t.test && !training}
            evaluateHint={evaluateHint}
            onEvaluate={() => void onEvaluate()}
            showResume={Boolean(run && run.status !== 'loaded' && run.models.includes('checkpoint'))}
            resumeHint={resumeHint}
            resumeText={snapshotResumeText(run)}
            onResume={(n) => void onResume(n)}
          />
        </section>

        <PredictPanel
          store={store}
          model={
            t.hasModel && run
              ? {
                  key: `${run.id}:${t.modelVersion}`,
                  classNames: run.classNames,
                  imageSize: modelSize ?? run.settings.imageSize,
                }
              : null
          }
          decision={decision}
          testTimeAugmentation={settings.testTimeAugmentation}
          disabled={training}
          onProblem={setNotice}
          explain={explain}
        />

        <RunsPanel
          runs={runs.runs}
          currentId={run?.id ?? null}
          storage={runs.storage}
          busy={training}
          onOpen={openRun}
          onRename={renameRun}
          onDelete={deleteRun}
          onDownload={downloadRun}
        />
      </main>
    </DisplayWindowContext.Provider>
  );
}
