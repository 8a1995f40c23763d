/**
 * What the page says of a snapshot ensemble saved as one model (model/ensemble.ts), read from its model.json so that
 * a stored, restored or loaded model says the same. Ground floor: imports only from src/core; no DOM, no tfjs.
 */
import type { EnsembleInfo, EnsembleRun } from './types';

/** The name of an ensemble's last layer, which averages its members' outputs (model/cnn.ts builds it). */
export const ENSEMBLE_AVERAGE_LAYER_NAME = 'ensemble_average';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null;

/**
 * The ensemble a model.json holds: K members when its last layer is `ensemble_average` (K = the units of the layer
 * before it); null for a single model or a text that is not a model.json.
 */
export function ensembleOfModelJson(modelJson: string): EnsembleInfo | null {
  let layers: unknown;
  try {
    const json = JSON.parse(modelJson) as Json;
    const topology = isObject(json.modelTopology) ? json.modelTopology : {};
    const root = isObject(topology.model_config) ? topology.model_config : topology;
    layers = isObject(root.config) ? root.config.layers : undefined;
  } catch {
    return null;
  }
  if (!Array.isArray(layers) || layers.length < 2) return null;
  const configOf = (layer: unknown): Json => (isObject(layer) && isObject(layer.config) ? layer.config : {});
  if (configOf(layers[layers.length - 1]).name !== ENSEMBLE_AVERAGE_LAYER_NAME) return null;
  const members = configOf(layers[layers.length - 2]).units;
  return typeof members === 'number' && Number.isInteger(members) && members >= 2
    ? { kind: 'snapshot', members }
    : null;
}

/** The sentence the Results and the model card give an ensemble: what it is and what it cost to train and costs to use. */
export function ensembleText({ members, predictTimeRatio }: EnsembleRun): string {
  const timed =
    predictTimeRatio === null
      ? 'its predict time was not timed here'
      : `timed at the run's end, it took ${predictTimeRatio.toFixed(1)} times one member's predict time`;
  return (
    `A snapshot ensemble of ${members} members saved as one model: one training run (the epochs split into ` +
    `${members} cosine cycles, the weights at each cycle's end kept), so it cost the same epochs as one model; ` +
    `its output is the mean of the members' probabilities. It predicts with one network ${members} times as wide ` +
    `(${members * members} times the work in convolutions 2 to 4 and the first Dense layer): ${timed}.`
  );
}

/**
 * What a run asked for `snapshots` members trains, and why in words when that is fewer: more than 2 classes train one
 * model (each member's softmax cannot be averaged by the saved model's one Dense layer); fewer epochs than members
 * train one member an epoch (2 epochs or more), else one model. `epochs` are the run's, resumed or not.
 */
export function snapshotPlan(
  snapshots: number,
  epochs: number,
  numClasses: number,
): { members: number; note: string | null } {
  if (snapshots <= 1) return { members: 1, note: null };
  if (numClasses !== 2)
    return {
      members: 1,
      note:
        `Snapshot ensemble needs two classes; trained one model (this dataset has ${numClasses}: each member's ` +
        'softmax cannot be averaged by the one Dense layer the saved model ends with).',
    };
  if (epochs >= snapshots) return { members: snapshots, note: null };
  if (epochs >= 2)
    return {
      members: epochs,
      note: `Snapshot ensemble of ${snapshots} needs ${snapshots} epochs (one cycle each); with ${epochs} epochs it trained ${epochs} members.`,
    };
  return {
    members: 1,
    note: `Snapshot ensemble of ${snapshots} needs ${snapshots} epochs (one cycle each); with ${epochs} epoch it trained one model.`,
  };
}
