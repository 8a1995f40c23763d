import { useState } from 'react';
import type { Settings } from '../core/types';
import { readLabelsFile, type LabelsTable } from '../data/labelsFile';
import { splitOptionsOf } from './dataset/datasetOptions';
import type { DatasetSource, DatasetView, useDataset } from './dataset/useDataset';
import type { TrainingStore } from './training/trainingStore';

/**
 * Loading a dataset from the page's drop zone, with the labels table (if any) the person gave: the table is kept for
 * the next dataset, and a new dataset replaces the old one only once it has loaded.
 */
export function useDatasetLoading({
  dataset,
  view,
  store,
  settings,
  setNotice,
}: {
  dataset: ReturnType<typeof useDataset>;
  view: DatasetView | null;
  store: TrainingStore;
  settings: Settings;
  setNotice: (message: string | null) => void;
}) {
  const [labels, setLabels] = useState<LabelsTable | null>(null);

  /** A new dataset replaces the old one only once it has loaded; then the old run's results go. */
  const loadNew = async (source: DatasetSource, table: LabelsTable | null = labels) => {
    const labelled = source.kind === 'demo' ? source : { ...source, labels: table ?? undefined };
    const loaded = await dataset.load(labelled, settings.imageSize, splitOptionsOf(settings));
    // The results on the old dataset go; the model and its history stay (Predict, Resume, Evaluate).
    if (loaded) store.datasetChanged();
  };

  /** A labels table (or none): kept for the next dataset, and the loaded one (not the demo) is loaded again with it. */
  const applyLabels = async (file: File | null) => {
    let table: LabelsTable | null = null;
    if (file) {
      try {
        table = await readLabelsFile(file);
      } catch (error) {
        setNotice(error instanceof Error ? error.message : String(error));
        return;
      }
    }
    setLabels(table);
    if (view && view.source.kind !== 'demo') await loadNew(view.source, table);
  };

  return { labels, loadNew, applyLabels };
}
