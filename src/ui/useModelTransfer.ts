import { useState } from 'react';
import type { Settings } from '../core/types';
import type { ReportedThreshold } from '../eval/report';
import type { DatasetView } from './dataset/useDataset';
import { zipModel, saveBlob } from './runs/downloadModel';
import { metadataOfRun, oodOfModelJson } from './runs/modelMetadata';
import { buildModelCard, modelCardFiles } from './runs/modelCard';
import { FORMAT_TEXT, modelDownload, type ModelFormat } from './runs/downloads';
import { readModelFile } from './runs/loadModelFile';
import { loadedModelRun } from './runs/loadedRun';
import { datasetNameOf } from './runs/runHints';
import type { RunsApi } from './runs/useRuns';
import type { TrainingStore } from './training/trainingStore';

/**
 * The page's model files in and out: downloading the current run's model (any format, with its model card), a saved
 * run's model, and loading a model file as a run of its own. Problems go to `setNotice`; nothing already done is lost.
 */
export function useModelTransfer({
  store,
  runs,
  view,
  reported,
  epochsDone,
  settings,
  setNotice,
}: {
  store: TrainingStore;
  runs: RunsApi;
  view: DatasetView | null;
  /** The operating point the Results report, for the downloaded metadata. */
  reported: ReportedThreshold | null;
  epochsDone: number;
  /** The page's settings: a loaded model's run takes those its file does not give. */
  settings: Settings;
  setNotice: (message: string | null) => void;
}) {
  const [exporting, setExporting] = useState(false);
  const run = runs.current;

  const onDownload = async (format: ModelFormat) => {
    if (!run) return;
    setExporting(true);
    try {
      const metadata = metadataOfRun(run, reported, epochsDone, '');
      const manifest = view?.manifest ?? null;
      // The loaded dataset describes the model only when it is the run's own.
      const ownData =
        view &&
        datasetNameOf(view) === run.datasetName &&
        view.classNames.join('\n') === metadata.classNames.join('\n');
      const card = modelCardFiles(
        buildModelCard({
          metadata,
          settings: run.settings,
          format: FORMAT_TEXT[format],
          dataset: ownData ? { ...view, name: run.datasetName } : null,
          report: reported?.report ?? null,
          scores: run.scores,
          ensemble: run.ensemble ?? null,
          date: new Date().toISOString(),
        }),
      );
      const { blob, name } = await modelDownload({
        format,
        metadata,
        settings: run.settings,
        manifest,
        card,
        exportModel: (r) => store.exportModel(r),
      });
      saveBlob(blob, name);
    } catch (e) {
      setNotice(`The model could not be exported: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setExporting(false);
    }
  };

  const onLoadModel = async (files: File[]) => {
    try {
      const loaded = await readModelFile(files);
      await store.restore({
        files: loaded.files,
        model: loaded.metadata.model,
        numClasses: loaded.metadata.classNames.length,
        scores: null,
        view: null,
      });
      const { run: adopted, message } = loadedModelRun(loaded, settings, new Date().toISOString());
      await runs.adopt(adopted, loaded.files, message);
      setNotice(loaded.warnings.length > 0 ? `Loaded ${loaded.name}. ${loaded.warnings.join(' ')}` : null);
    } catch (e) {
      setNotice(`The model could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const onDownloadRun = async (id: string) => {
    const saved = runs.runs.find((r) => r.id === id);
    const files = saved ? await runs.savedModel(id) : null;
    if (!saved || !files) {
      setNotice('That run has no saved model to download.');
      return;
    }
    const metadata = {
      ...metadataOfRun(saved, null, saved.history.epochsDone, ''),
      outOfDistribution: oodOfModelJson(files.modelJson),
    };
    saveBlob(await zipModel(files.modelJson, files.weights, metadata), `${saved.name.replace(/[^\w.-]+/g, '_')}.zip`);
  };

  return { exporting, onDownload, onLoadModel, onDownloadRun };
}
