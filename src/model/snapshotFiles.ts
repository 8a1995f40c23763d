/**
 * A snapshot-ensemble run's snapshots so far as files beside its checkpoint (one JSON text and one weights buffer),
 * so that a reload mid-run loses none and Resume stacks all K at the end. Read back against the model being
 * resumed: every stored byte is hostile, and a snapshot that does not fit is refused in words. Pure tfjs (no DOM).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelFiles } from '../core/types';
import { UserError } from '../core/userError';
import type { MemberWeights } from './ensemble';

/** What the JSON text says it is, so that a checkpoint or a model file is never read as snapshots. */
const FORMAT = 'xray-trainer-snapshots';

const weightName = (member: number, layer: string, index: number) => `snapshot_${member}/${layer}/${index}`;

/** The snapshots (in the order they were taken) as files: `snapshots` and their weights, float32. */
export async function snapshotFilesOf(snapshots: readonly MemberWeights[]): Promise<ModelFiles> {
  const named: tf.NamedTensorMap = {};
  snapshots.forEach((member, k) =>
    member.forEach((tensors, layer) => tensors.forEach((tensor, j) => (named[weightName(k, layer, j)] = tensor))),
  );
  const { data, specs } = await tf.io.encodeWeights(named);
  return { modelJson: JSON.stringify({ format: FORMAT, snapshots: snapshots.length, weights: specs }), weights: data };
}

/** Which ensemble the stored members belong to, for the refusal's words. */
export type StoredMembersKind = 'snapshot' | 'seed';

function refusal(kind: StoredMembersKind): (why: string) => never {
  const what = kind === 'seed' ? 'finished members' : 'snapshots';
  return (why: string): never => {
    throw new UserError(
      `The saved run's ${what} cannot be used (${why}): they were changed outside the app or belong to another ` +
        `run. Train the ${kind} ensemble again from the start.`,
    );
  };
}

/** The stored JSON description of snapshots, or refused in words when it is not one. */
function descriptionOf(files: ModelFiles, refuse: (why: string) => never): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(files.modelJson);
  } catch {
    return refuse('their description is not JSON');
  }
  const description = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  return description.format === FORMAT ? description : refuse('their description is not one of snapshots');
}

/** How many members `files` say they hold (the count is checked against the weights by snapshotsOfFiles). */
export function storedSnapshotCount(files: ModelFiles, kind: StoredMembersKind): number {
  const refuse = refusal(kind);
  const n = descriptionOf(files, refuse).snapshots;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 5
    ? n
    : refuse(`${String(n)} is not a number of members from 0 to 5`);
}

/**
 * The `count` snapshots stored in `files`, each shaped as `model`'s weights (the caller disposes them); throws a
 * UserError saying what is wrong when the files are not exactly that.
 */
export function snapshotsOfFiles(
  model: tf.LayersModel,
  files: ModelFiles,
  count: number,
  kind: StoredMembersKind = 'snapshot',
): MemberWeights[] {
  const refuse = refusal(kind);
  const { snapshots, weights } = descriptionOf(files, refuse);
  if (!Array.isArray(weights)) return refuse('their description is not one of snapshots');
  if (snapshots !== count) return refuse(`${String(snapshots)} stored where the run's finished cycles leave ${count}`);
  // The specs the model's layers would have, in order: names, shapes and type must be exactly these.
  const expected: { name: string; shape: number[] }[] = [];
  for (let k = 0; k < count; k++)
    for (const layer of model.layers)
      layer.weights.forEach((w, j) =>
        expected.push({ name: weightName(k, layer.name, j), shape: w.shape as number[] }),
      );
  if (weights.length !== expected.length)
    return refuse(`${weights.length} weights listed where the model needs ${expected.length}`);
  expected.forEach(({ name, shape }, i) => {
    const spec = weights[i] as Partial<tf.io.WeightsManifestEntry> | null;
    const fits =
      spec !== null &&
      typeof spec === 'object' &&
      spec.name === name &&
      spec.dtype === 'float32' &&
      spec.quantization === undefined &&
      Array.isArray(spec.shape) &&
      spec.shape.length === shape.length &&
      spec.shape.every((d, a) => d === shape[a]);
    if (!fits) refuse(`weight ${i} is not ${name} of shape [${shape.join(', ')}]`);
  });
  const bytes = expected.reduce((sum, { shape }) => sum + 4 * shape.reduce((a, b) => a * b, 1), 0);
  if (files.weights.byteLength !== bytes) return refuse(`${files.weights.byteLength} bytes where ${bytes} are needed`);
  const values = new Float32Array(files.weights);
  if (!values.every(Number.isFinite)) return refuse('some weights are not finite numbers');
  const members: MemberWeights[] = Array.from({ length: count }, () => new Map());
  let offset = 0;
  for (let k = 0; k < count; k++)
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      members[k].set(
        layer.name,
        layer.weights.map((w) => {
          const size = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
          const tensor = tf.tensor(values.slice(offset, offset + size), w.shape as number[]);
          offset += size;
          return tensor;
        }),
      );
    }
  return members;
}
