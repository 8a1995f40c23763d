/**
 * A model file the person loaded, as a run of the Runs list: no dataset, no history beyond the epochs its metadata
 * says it was trained for, and the sentence the page says about it.
 */
import { intensityNormalisationOf } from '../../core/intensityNormalisation';
import type { IntensityNormalisation, Settings } from '../../core/types';
import { decodingNote } from './decodingNote';
import { ensembleOfModelJson } from '../../core/ensemble';
import type { SavedRun } from '../../storage/runsDb';
import type { LoadedModelFile } from './loadModelFile';

/** The run that stands for `loaded` (the form's settings, with the model's network and size), and what to say of it. */
export function loadedModelRun(
  loaded: LoadedModelFile,
  settings: Settings,
  at: string,
): { run: SavedRun; message: string } {
  const m = loaded.metadata;
  // From the model's own layers (metadata.json may say otherwise, or nothing).
  const stacked = ensembleOfModelJson(loaded.files.modelJson);
  // The kind only metadata.json can tell (both stack the same way).
  const ensemble = stacked && m.ensemble?.kind === 'seeds' ? { ...stacked, kind: 'seeds' as const } : stacked;
  const run: SavedRun = {
    id: `${at}-loaded`,
    name: loaded.name,
    createdAt: at,
    updatedAt: at,
    datasetName: '(loaded model file)',
    classNames: m.classNames,
    settings: {
      ...settings,
      model: m.model,
      imageSize: m.imageSize,
      intensityNormalisation: intensityNormalisationOfJson(loaded.files.modelJson),
      snapshots: ensemble?.members ?? 1,
    },
    evaluatedOn: 'test',
    status: 'loaded',
    history: {
      epochs: 0,
      batchesPerEpoch: 0,
      batchPoints: [],
      epochPoints: [],
      epochsDone: m.trainedEpochs,
      classWeights: null,
      bestEpoch: null,
      outcome: null,
    },
    test: null,
    scores: null,
    figures: { bestValLoss: null, testAccuracy: null, testAuc: null },
    models: [],
    metadata: m,
    ...(ensemble ? { ensemble: { ...ensemble, predictTimeRatio: null } } : {}),
  };
  const threshold =
    m.threshold === null
      ? 'no reported threshold (0.5 is used)'
      : `threshold ${m.threshold} on ${m.thresholdClass ?? m.positiveClass} (${m.thresholdRule ?? 'rule not given'})`;
  const made = m.createdAt ? ` (made ${m.createdAt.slice(0, 10)})` : '';
  const network = ensemble
    ? `${ensemble.kind === 'seeds' ? 'seed' : 'snapshot'} ensemble of ${ensemble.members} ${m.model} networks`
    : `${m.model} network`;
  const message = `Loaded “${loaded.name}”: ${network}, classes ${m.classNames.join(', ')}, ${m.imageSize} × ${m.imageSize} px grey, ${threshold}, trained ${m.trainedEpochs} epochs${made}. Predict with it, or load a dataset and evaluate it.${prefixed(decodingNote(m))}`;
  return { run, message };
}

const prefixed = (sentence: string) => (sentence ? ` ${sentence}` : '');

/** The intensity normalisation the model's own layers do (its model.json was checked when the file was read). */
export function intensityNormalisationOfJson(modelJson: string): IntensityNormalisation {
  try {
    type Topology = { model_config?: Topology; config?: { layers?: { class_name?: unknown }[] } };
    const topology = (JSON.parse(modelJson) as { modelTopology?: Topology }).modelTopology;
    const layers = (topology?.model_config ?? topology)?.config?.layers;
    return Array.isArray(layers) ? intensityNormalisationOf(layers.map((l) => l?.class_name)) : 'none';
  } catch {
    return 'none';
  }
}
