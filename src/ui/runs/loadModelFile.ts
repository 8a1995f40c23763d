/**
 * `Load model`: a zip made by `Download model` (or by the PyTorch bundle's train.py), or its files picked
 * loose: model.json, its weights file and metadata.json. Read in the page with zip.js; nothing is checked
 * against the network here beyond the files' shapes (the worker builds it and says what does not fit).
 */
import { BlobReader, TextWriter, Uint8ArrayWriter, ZipReader, type Entry, type FileEntry } from '@zip.js/zip.js';
import type { ModelFiles, ModelMetadata, OodDetector } from '../../core/types';
import { checkOodDetector } from '../../eval/outOfDistribution';
import { UserError } from '../../core/userError';

export interface LoadedModelFile {
  name: string;
  files: ModelFiles;
  /** metadata.json as written by this app, or filled in from what there is (class names, size). */
  metadata: ModelMetadata;
  /** Said to the person when metadata had to be guessed. */
  warnings: string[];
}

interface RawFiles {
  modelJson: string | null;
  /** By file name (the weights manifest names its files). */
  binaries: Map<string, Uint8Array>;
  metadata: string | null;
}

export async function readModelFile(picked: File[]): Promise<LoadedModelFile> {
  if (picked.length === 0) throw new UserError('Choose a model zip (from Download model), or its model.json, weights.bin and metadata.json together.');
  const zip = picked.length === 1 && /\.zip$/i.test(picked[0].name);
  const raw = zip ? await readZip(picked[0]) : await readLoose(picked);
  const name = zip ? picked[0].name : picked.map((f) => f.name).join(', ');
  if (!raw.modelJson) {
    throw new UserError(`${name} has no model.json: Load model takes a zip made by Download model (TensorFlow.js format), or its files.`);
  }
  let manifestPaths: string[];
  try {
    const json = JSON.parse(raw.modelJson) as { weightsManifest?: { paths?: string[] }[] };
    manifestPaths = (json.weightsManifest ?? []).flatMap((g) => g.paths ?? []);
  } catch {
    throw new UserError(`The model.json in ${name} is not JSON: it is damaged or not a TensorFlow.js model.`);
  }
  const parts = manifestPaths.map((path) => raw.binaries.get(baseName(path)));
  const missing = manifestPaths.filter((_, i) => !parts[i]);
  if (manifestPaths.length === 0 || missing.length > 0) {
    throw new UserError(`${name} lacks the weights file${missing.length > 1 ? 's' : ''} model.json names (${missing.join(', ') || 'none listed'}).`);
  }
  const total = parts.reduce((sum, p) => sum + p!.length, 0);
  const weights = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    weights.set(part!, offset);
    offset += part!.length;
  }
  const { metadata, warnings } = metadataOf(raw.metadata, raw.modelJson);
  // One weights file: model.json is rewritten to name it, as this app writes it; metadata.json's detector goes in it.
  const parsedJson = JSON.parse(raw.modelJson) as { userDefinedMetadata?: unknown };
  const userDefinedMetadata = withDetector(parsedJson.userDefinedMetadata, metadata.outOfDistribution ?? null);
  const modelJson = JSON.stringify({ ...parsedJson, weightsManifest: singleManifest(raw.modelJson), ...(userDefinedMetadata ? { userDefinedMetadata } : {}) });
  return { name, files: { modelJson, weights: weights.buffer }, metadata, warnings };
}

/** model.json's userDefinedMetadata with metadata.json's detector in it (metadata.json's wins; the worker checks either). */
function withDetector(existing: unknown, detector: OodDetector | null): Record<string, unknown> | null {
  const base = existing && typeof existing === 'object' && !Array.isArray(existing) ? (existing as Record<string, unknown>) : null;
  if (!detector) return base;
  return { ...base, outOfDistribution: detector };
}

function singleManifest(modelJson: string): { paths: string[]; weights: unknown[] }[] {
  const json = JSON.parse(modelJson) as { weightsManifest: { weights: unknown[] }[] };
  return [{ paths: ['weights.bin'], weights: json.weightsManifest.flatMap((g) => g.weights) }];
}

async function readZip(file: File): Promise<RawFiles> {
  const reader = new ZipReader(new BlobReader(file), { useWebWorkers: false });
  const raw: RawFiles = { modelJson: null, binaries: new Map(), metadata: null };
  try {
    let entries: Entry[];
    try {
      entries = await reader.getEntries();
    } catch {
      throw new UserError(`${file.name} is not a readable zip archive.`);
    }
    for (const entry of entries) {
      if (entry.directory) continue;
      const fileEntry = entry as FileEntry;
      const base = baseName(entry.filename);
      if (base === 'model.json') raw.modelJson = await fileEntry.getData(new TextWriter());
      else if (base === 'metadata.json') raw.metadata = await fileEntry.getData(new TextWriter());
      else if (/\.bin$/i.test(base)) raw.binaries.set(base, await fileEntry.getData(new Uint8ArrayWriter()));
    }
  } finally {
    await reader.close();
  }
  return raw;
}

async function readLoose(files: File[]): Promise<RawFiles> {
  const raw: RawFiles = { modelJson: null, binaries: new Map(), metadata: null };
  for (const file of files) {
    if (file.name === 'model.json') raw.modelJson = await file.text();
    else if (file.name === 'metadata.json') raw.metadata = await file.text();
    else if (/\.bin$/i.test(file.name)) raw.binaries.set(file.name, new Uint8Array(await file.arrayBuffer()));
  }
  return raw;
}

const baseName = (path: string) => path.split('/').pop() ?? path;

/** This app's metadata.json; a Teachable Machine one (labels); or names made up from the output size. */
function metadataOf(text: string | null, modelJson: string): { metadata: ModelMetadata; warnings: string[] } {
  const warnings: string[] = [];
  let parsed: Partial<ModelMetadata> & { labels?: unknown } = {};
  if (text) {
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      warnings.push('metadata.json is not JSON and was ignored.');
    }
  } else {
    warnings.push('There was no metadata.json: class names and preprocessing are assumed (grey, pixel / 255).');
  }
  const inputSize = inputSizeOf(modelJson);
  let classNames = Array.isArray(parsed.classNames) ? parsed.classNames.map(String) : Array.isArray(parsed.labels) ? parsed.labels.map(String) : null;
  if (!classNames) {
    const units = outputUnitsOf(modelJson);
    classNames = Array.from({ length: units === 1 ? 2 : units }, (_, i) => `class ${i}`);
  }
  const imageSize = typeof parsed.imageSize === 'number' ? parsed.imageSize : inputSize;
  if (inputSize !== null && imageSize !== inputSize) {
    throw new UserError(`metadata.json says ${imageSize} px images but the model takes ${inputSize} px: the files do not belong together.`);
  }
  if (imageSize === null) throw new UserError('The model does not say its input size: it is not a model this app made.');
  const binary = classNames.length === 2;
  return {
    metadata: {
      model: parsed.model ?? 'tutorial',
      classNames,
      imageSize,
      channels: 1,
      normalisation: parsed.normalisation ?? 'grey, then pixel / 255 (assumed)',
      output: binary ? 'sigmoid' : 'softmax',
      positiveClass: binary ? (parsed.positiveClass ?? classNames[1]) : null,
      threshold: parsed.threshold ?? null,
      thresholdClass: parsed.thresholdClass ?? null,
      thresholdRule: parsed.thresholdRule ?? null,
      resize: parsed.resize ?? `squashed to ${imageSize} x ${imageSize}`,
      trainedEpochs: parsed.trainedEpochs ?? 0,
      backend: parsed.backend ?? '',
      createdAt: parsed.createdAt ?? '',
      // Hostile until checked: finite numbers, the right shapes, within caps (a UserError names what is wrong).
      outOfDistribution: parsed.outOfDistribution == null ? null : checkOodDetector(parsed.outOfDistribution, { numClasses: classNames.length }),
    },
    warnings,
  };
}

function layersOf(modelJson: string): { class_name?: string; config?: Record<string, unknown> }[] {
  const json = JSON.parse(modelJson) as { modelTopology?: { model_config?: { config?: { layers?: unknown } } } };
  const layers = json.modelTopology?.model_config?.config?.layers;
  return Array.isArray(layers) ? (layers as { class_name?: string; config?: Record<string, unknown> }[]) : [];
}

function inputSizeOf(modelJson: string): number | null {
  for (const layer of layersOf(modelJson)) {
    const shape = (layer.config?.batch_input_shape ?? layer.config?.batchInputShape) as (number | null)[] | undefined;
    if (Array.isArray(shape) && typeof shape[1] === 'number') return shape[1];
  }
  return null;
}

function outputUnitsOf(modelJson: string): number {
  const dense = layersOf(modelJson).filter((l) => l.class_name === 'Dense');
  const units = dense[dense.length - 1]?.config?.units;
  return typeof units === 'number' ? units : 2;
}
