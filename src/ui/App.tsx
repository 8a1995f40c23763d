import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ModelMetadata, Settings, Splits } from '../core/types';
import { trainSettingsOf } from '../core/settings';
import { DatasetSummary } from './DatasetSummary';
import { DatasetHealth } from './DatasetHealth';
import { DropZone } from './DropZone';
import { zipModel, saveBlob } from './downloadModel';
import { LoadingBar } from './LoadingBar';
import { ModelSummaryTable } from './ModelSummaryTable';
import { SampleGrid } from './SampleGrid';
import { AugmentedSamples, useAugmentationPreview } from './AugmentedSamples';
import { SettingsForm } from './SettingsForm';
import { DEFAULT_SETTINGS, checkSetting, settingsFromQuery, settingsToQuery } from './settings';
import { Evaluation, type ReportedThreshold } from './Evaluation';
import { TrainingPanel } from './TrainingPanel';
import { sourceOf, useDataset, type DatasetSource, type DatasetView } from './useDataset';
import { useTrainer, useTrainingView } from './useTrainer';
import { reloadReason, splitOptionsOf } from './datasetOptions';
import { pageStatus } from './pageStatus';
import { MODEL_DEFAULT_REASON, modelDescription } from './modelText';

/** What a finished run was trained on, for the exported metadata. */
interface RunInfo {
  settings: Settings;
  classNames: string[];
  evaluatedOn: string;
}

export function App() {
  const initial = useMemo(() => settingsFromQuery(window.location.search, DEFAULT_SETTINGS), []);
  const [settings, setSettings] = useState<Settings>(initial.settings);
  const [notice, setNotice] = useState<string | null>(initial.problems.length ? initial.problems.join(' ') : null);
  const [run, setRun] = useState<RunInfo | null>(null);
  const [exporting, setExporting] = useState(false);
  // The operating point the Results report, for the downloaded metadata.
  const [reported, setReported] = useState<ReportedThreshold | null>(null);
  const trainer = useTrainer();
  const { store } = trainer;

  const onDecoded = useCallback((splits: Splits) => void store.setData(splits), [store]);
  const dataset = useDataset(onDecoded);
  const view: DatasetView | null =
    dataset.state.phase === 'ready' ? dataset.state.view : dataset.state.phase === 'loading' ? dataset.state.previous : null;
  const numClasses = view?.classNames.length ?? 2;
  // Made by the worker from its copy of the train split: asked again for a new dataset or new settings.
  const sampleIndices = useMemo(() => view?.samples.map((s) => s.trainIndex) ?? null, [view]);
  const augmentationPreview = useAugmentationPreview(store, sampleIndices, settings.augmentation, setNotice);

  // The URL keeps the settings, so a page reload or a shared link trains the same way.
  useEffect(() => {
    const query = settingsToQuery(settings);
    if (query !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}${query}`);
  }, [settings]);

  // The model summary follows the chosen model, the image size and the number of classes.
  useEffect(() => {
    if (checkSetting('imageSize', settings.imageSize) !== null) return;
    const timer = setTimeout(() => void store.describeModel(settings.model, settings.imageSize, numClasses), 250);
    return () => clearTimeout(timer);
  }, [store, settings.model, settings.imageSize, numClasses]);

  // Only what the page itself shows: each batch re-renders the training panel alone.
  const t = {
    phase: useTrainingView(store, (v) => v.phase),
    error: useTrainingView(store, (v) => v.error),
    stopRequested: useTrainingView(store, (v) => v.stopRequested),
    test: useTrainingView(store, (v) => v.test),
    modelSummary: useTrainingView(store, (v) => v.modelSummary),
  };
  const training = t.phase === 'starting' || t.phase === 'training' || t.phase === 'evaluating';
  const loading = dataset.state.phase === 'loading';

  /** A new dataset replaces the old one only once it has loaded; then the old run's results go. */
  const loadNew = async (source: DatasetSource) => {
    const loaded = await dataset.load(source, settings.imageSize, splitOptionsOf(settings));
    if (loaded) {
      store.reset();
      setRun(null);
    }
  };

  const onTrain = async () => {
    if (!view) return;
    let ready: DatasetView | null = view;
    // Images are decoded at the model's input size, and split as they load: a new size or split means loading again.
    if (reloadReason(view, settings)) ready = await dataset.load(view.source, settings.imageSize, splitOptionsOf(settings));
    if (!ready) return;
    setRun({ settings, classNames: ready.classNames, evaluatedOn: ready.used.test > 0 ? 'test' : 'validation' });
    await store.train(trainSettingsOf(settings));
  };

  const onDownload = async () => {
    if (!run) return;
    setExporting(true);
    try {
      const model = await store.exportModel();
      const binary = run.classNames.length === 2;
      const metadata: ModelMetadata = {
        classNames: run.classNames,
        imageSize: run.settings.imageSize,
        channels: 1,
        normalisation: 'grey = 0.299 R + 0.587 G + 0.114 B, then pixel / 255 (values in 0..1)',
        model: run.settings.model,
        output: binary ? 'sigmoid' : 'softmax',
        positiveClass: binary ? run.classNames[1] : null,
        threshold: reported?.threshold ?? null,
        thresholdClass: reported ? run.classNames[reported.positiveClass] : null,
        thresholdRule: reported?.rule ?? null,
        resize: `squashed to ${run.settings.imageSize} x ${run.settings.imageSize} (aspect ratio not kept), EXIF orientation applied`,
        trainedEpochs: model.epochsDone,
        backend: model.backend,
        createdAt: new Date().toISOString(),
      };
      const blob = await zipModel(model.modelJson, model.weights, metadata);
      saveBlob(blob, `xray-classifier-${run.settings.imageSize}px.zip`);
    } catch (e) {
      setNotice(`The model could not be exported: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setExporting(false);
    }
  };

  const status = pageStatus(dataset.state.phase, t.phase, Boolean(dataset.error || t.error));
  const alerts = [dataset.error, t.error, notice].filter((a): a is string => Boolean(a));
  const trainHint = !view ? 'Load a dataset first.' : reloadReason(view, settings);

  return (
    <main>
      <header className="masthead">
        <h1>X-ray trainer</h1>
        <p>
          Train an image classifier on your own labelled images, in this browser tab. Nothing is uploaded: the images,
          the training and the model stay on your machine.
        </p>
        <p className="status">
          Status: <span data-testid="status">{status}</span>
        </p>
      </header>

      {alerts.length > 0 && (
        <div role="alert" className="alert">
          {alerts.map((a) => (
            <p key={a}>{a}</p>
          ))}
          <button
            type="button"
            onClick={() => {
              dataset.dismissError();
              store.dismissError();
              setNotice(null);
            }}
          >
            Dismiss
          </button>
        </div>
      )}

      <DropZone
        disabled={training}
        onFiles={(files) => void loadNew(sourceOf(files))}
        onFolder={(name, entries) =>
          void entries.then(
            (list) => loadNew({ kind: 'entries', name, entries: list }),
            (e: unknown) => setNotice(`The dropped folder could not be read: ${e instanceof Error ? e.message : String(e)}`),
          )
        }
        onDemo={() => void loadNew({ kind: 'demo' })}
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

      <section className="panel" aria-labelledby="model-heading">
        <h2 id="model-heading">3. Model and settings</h2>
        <p data-testid="model-description">{modelDescription(settings.model, numClasses)}</p>
        <p>{MODEL_DEFAULT_REASON}</p>
        <SettingsForm
          settings={settings}
          onChange={setSettings}
          canTrain={Boolean(view) && !loading}
          training={training}
          stopRequested={t.stopRequested}
          onTrain={() => void onTrain()}
          onStop={() => store.stop()}
          trainHint={trainHint}
        />
        {view && <AugmentedSamples preview={augmentationPreview.preview} pending={augmentationPreview.pending} />}
        {t.modelSummary && <ModelSummaryTable summary={t.modelSummary.summary} imageSize={t.modelSummary.imageSize} />}
      </section>

      <section className="panel" aria-labelledby="training-heading">
        <h2 id="training-heading">4. Training</h2>
        <TrainingPanel store={store} batchSize={run?.settings.batchSize ?? settings.batchSize} classNames={run?.classNames ?? view?.classNames ?? []} />
      </section>

      <section className="panel" aria-labelledby="results-heading">
        <h2 id="results-heading">5. Results</h2>
        {t.test && run ? (
          <>
            <Evaluation
              result={t.test}
              splitName={run.evaluatedOn}
              paths={run.evaluatedOn === 'test' ? (view?.testPaths ?? []) : []}
              classNames={run.classNames}
              store={store}
              evalSettings={settings}
              onReported={setReported}
            />
          </>
        ) : (
          <p>{t.phase === 'evaluating' ? 'Evaluating on the held-out images…' : 'Train a model to see how it does on images it has never seen.'}</p>
        )}
        <button type="button" onClick={() => void onDownload()} disabled={!t.test || !run || training || exporting}>
          Download model
        </button>{' '}
        <small>A zip with model.json and weights.bin (TensorFlow.js layers format) and metadata.json.</small>
      </section>
    </main>
  );
}
