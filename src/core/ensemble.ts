/**
 * What the page says of an ensemble saved as one model (snapshot or seed) (model/ensemble.ts), read from its model.json so that
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
export function ensembleText(run: EnsembleRun): string {
  const { members, predictTimeRatio } = run;
  const timed =
    predictTimeRatio === null
      ? 'its predict time was not timed here'
      : `timed at the run's end, it took ${predictTimeRatio.toFixed(1)} times one member's predict time`;
  const predicts =
    `its output is the mean of the members' probabilities. It predicts with one network ${members} times as wide ` +
    `(${members * members} times the work in convolutions 2 to 4 and the first Dense layer): ${timed}.`;
  if (run.kind === 'seeds') {
    const ratio = run.trainingTimeRatio ?? null;
    const cost =
      ratio === null
        ? 'its training time against one member was not timed here (its first member trained before a reload)'
        : `it took ${ratio.toFixed(1)} times one member's training time`;
    return (
      `A seed ensemble of ${members} members saved as one model: ${members} whole runs one after another, member k ` +
      `initialised and shuffled with seed + 1009 x k, each with its own epochs and early stopping; ${cost}; ` +
      predicts
    );
  }
  return (
    `A snapshot ensemble of ${members} members saved as one model: one training run (the epochs split into ` +
    `${members} cosine cycles, the weights at each cycle's end kept), so it cost the same epochs as one model; ` +
    predicts
  );
}

/** The seed of member k of a seed ensemble: k = 0 is the run's; the large step keeps seed 1's and seed 2's apart. */
export const seedOfMember = (seed: number, member: number): number => seed + 1009 * member;

/**
 * How many members the saved model of a run with these settings will hold (1: a single model): what the model
 * summary shows before training. Both ensembles asked for is refused at Train: one model here.
 */
export function plannedMembers(
  settings: { snapshots: number; seedModels?: number; epochs: number },
  numClasses: number,
): number {
  if (ensembleConflict(settings)) return 1;
  if ((settings.seedModels ?? 1) > 1) return seedPlan(settings.seedModels ?? 1, numClasses).members;
  return snapshotPlan(settings.snapshots, settings.epochs, numClasses).members;
}

/** Why a run cannot have both ensembles (said at Train); null when it asks for one or none. */
export function ensembleConflict(settings: { snapshots: number; seedModels?: number }): string | null {
  if ((settings.seedModels ?? 1) <= 1 || settings.snapshots <= 1) return null;
  return (
    `Seed ensemble ${String(settings.seedModels)} and Snapshot ensemble ${settings.snapshots} cannot be combined ` +
    '(the saved model stacks one kind of member): set one of them to 1.'
  );
}

/**
 * What a seed-ensemble run asked for `seedModels` members trains, and why in words when that is one model: more
 * than 2 classes (the same reason as snapshotPlan's).
 */
export function seedPlan(seedModels: number, numClasses: number): { members: number; note: string | null } {
  if (seedModels <= 1) return { members: 1, note: null };
  const classes = classesNote('Seed', numClasses);
  return classes ? { members: 1, note: classes } : { members: seedModels, note: null };
}

/** Why an ensemble of `numClasses` classes trains one model (null for two classes). */
function classesNote(kind: 'Snapshot' | 'Seed', numClasses: number): string | null {
  if (numClasses === 2) return null;
  return (
    `${kind} ensemble needs two classes; trained one model (this dataset has ${numClasses}: each member's ` +
    'softmax cannot be averaged by the one Dense layer the saved model ends with).'
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
  const classes = classesNote('Snapshot', numClasses);
  if (classes) return { members: 1, note: classes };
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
