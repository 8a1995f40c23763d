import type { Settings } from '../core/types';
import { trainSettingsOf } from '../core/settings';
import { reloadReason, splitOptionsOf } from './dataset/datasetOptions';
import type { DatasetView, useDataset } from './dataset/useDataset';
import { datasetNameOf } from './runs/runHints';
import type { RunsApi } from './runs/useRuns';
import type { TrainingStore } from './training/trainingStore';

/**
 * What the page's Train, Resume and Evaluate buttons do: train a new run (loading the dataset again first when its
 * size or split no longer fit the settings), train the shown run for more epochs from its checkpoint, and evaluate
 * the model in the worker on the loaded dataset. Problems go to `setNotice`. Made anew each render, like any handler of
 * the page (no hooks inside).
 */
export function runActions({
  dataset,
  view,
  store,
  runs,
  settings,
  setNotice,
}: {
  dataset: ReturnType<typeof useDataset>;
  view: DatasetView | null;
  store: TrainingStore;
  runs: RunsApi;
  settings: Settings;
  setNotice: (message: string | null) => void;
}) {
  const run = runs.current;

  const onTrain = async () => {
    if (!view) return;
    let ready: DatasetView | null = view;
    // Images are decoded at the model's input size, and split as they load: a new size or split means loading again.
    if (reloadReason(view, settings))
      ready = await dataset.load(view.source, settings.imageSize, splitOptionsOf(settings));
    if (!ready) return;
    runs.begin({
      datasetName: datasetNameOf(ready),
      settings,
      classNames: ready.classNames,
      evaluatedOn: ready.used.test > 0 ? 'test' : 'validation',
    });
    await store.train(trainSettingsOf(settings));
  };

  const onResume = async (moreEpochs: number) => {
    if (!run) return;
    const from = await runs.resumeFrom();
    if (typeof from === 'string') {
      setNotice(from);
      return;
    }
    // A snapshot-ensemble run cut short goes on to the end of its planned epochs: its cycles span them. A seed
    // ensemble's goes on with its members' own epochs (the worker finds the member it was in).
    const { epochs, epochsDone } = run.history;
    const cutShort = epochsDone < epochs;
    const more =
      (run.settings.seedModels ?? 1) > 1 && cutShort
        ? run.settings.epochs
        : (run.settings.snapshots ?? 1) > 1 && cutShort
          ? epochs - epochsDone
          : moreEpochs;
    await store.train({ ...trainSettingsOf(run.settings), epochs: more }, from);
  };

  const onEvaluate = async () => {
    if (!view || !run) return;
    const reply = await store.evaluateModel(settings.batchSize);
    if (reply) runs.recordEvaluation(reply, view.used.test > 0 ? 'test' : 'validation', datasetNameOf(view));
  };

  return { onTrain, onResume, onEvaluate };
}
