/**
 * `Load model`: a zip made by `Download model` (or by the PyTorch bundle's train.py), or its files picked
 * loose: model.json, its weights file and metadata.json. Read in the page with zip.js. Every byte is a
 * stranger's: sizes are capped before anything is inflated or read (a zip bomb is refused from its directory),
 * the JSON before it is parsed, the weights against what model.json declares, and NaN or infinite weights are
 * refused (data/modelFileChecks.ts, modelWeightChecks.ts, modelMetadataChecks.ts). The worker then builds the
 * model and says what does not fit the app.
 */
import { BlobReader, Writer, ZipReader, type Entry, type FileEntry } from '@zip.js/zip.js';
import type { ModelFiles, ModelMetadata, OodDetector } from '../../core/types';
import { checkOodDetector } from '../../eval/oodDetectorCheck';
import { UserError } from '../../core/userError';
import { oversizeReason } from '../../data/archive';
import { MODEL_FILE_LIMITS, parseJsonChecked, quote } from '../../data/modelFileChecks';
import { checkWeightBytes, checkWeights, weightSpecsOf } from '../../data/modelWeightChecks';
import { metadataOf } from '../../data/modelMetadataChecks';
import { formatBytes } from '../../core/formatUnits';

export interface LoadedModelFile {
  name: string;
  files: ModelFiles;
  /** metadata.json as written by this app, or filled in from what there is (class names, size). */
  metadata: ModelMetadata;
  /** Said to the person when metadata had to be guessed. */
  warnings: string[];
}

/** One file of a model, read only once its size is known to be within `limit`. */
interface Part {
  name: string;
  size: number;
  bytes(limit: number): Promise<Uint8Array>;
}

/** Entries a model zip may list: this app writes 3 to 5. */
const MAX_ZIP_ENTRIES = 1_000;

export async function readModelFile(picked: File[]): Promise<LoadedModelFile> {
  if (picked.length === 0)
    throw new UserError(
      'Choose a model zip (from Download model), or its model.json, weights.bin and metadata.json together.',
    );
  const zip = picked.length === 1 && /\.zip$/i.test(picked[0].name);
  const name = zip ? picked[0].name : picked.map((f) => f.name).join(', ');
  if (zip) {
    const reader = new ZipReader(new BlobReader(picked[0]), { useWebWorkers: false, checkCrc32: true });
    try {
      return await readParts(name, await zipParts(picked[0], reader));
    } finally {
      await reader.close().catch(() => {});
    }
  }
  return readParts(name, picked.map(looseParts));
}

async function readParts(name: string, parts: Part[]): Promise<LoadedModelFile> {
  const byName = new Map<string, Part>();
  for (const part of parts) if (!byName.has(baseName(part.name))) byName.set(baseName(part.name), part);
  const modelPart = byName.get('model.json');
  if (!modelPart) {
    throw new UserError(
      `${name} has no model.json: Load model takes a zip made by Download model (TensorFlow.js format), or its files.`,
    );
  }
  const { maxModelJsonBytes, maxMetadataBytes, maxWeightsBytes } = MODEL_FILE_LIMITS;
  const modelText = await textOf(modelPart, maxModelJsonBytes);
  const json = parseJsonChecked(modelText, `The model.json in ${name}`, maxModelJsonBytes);
  const { specs, paths, bytes: declared } = weightSpecsOf(json, `The model.json in ${name}`);
  const weightParts = paths.map((path) => byName.get(baseName(path)));
  const missing = paths.filter((_, i) => !weightParts[i]);
  if (missing.length > 0) {
    throw new UserError(
      `${name} lacks the weights file${missing.length > 1 ? 's' : ''} model.json names (${missing.map(quote).join(', ')}).`,
    );
  }
  // Sizes first (from the zip's directory, or the files'): nothing is inflated that could not fit.
  const sizes = weightParts.reduce((sum, p) => sum + p!.size, 0);
  if (sizes > maxWeightsBytes)
    throw new UserError(`${name}'s weights are ${formatBytes(sizes)}, over the ${formatBytes(maxWeightsBytes)} limit.`);
  checkWeightBytes(declared, sizes, name);
  const weights = new Uint8Array(declared);
  let offset = 0;
  for (const part of weightParts) {
    const chunk = await part!.bytes(declared - offset);
    weights.set(chunk, offset);
    offset += chunk.length;
  }
  checkWeights(specs, declared, weights.subarray(0, offset), name);
  const metadataPart = byName.get('metadata.json');
  const metadataText = metadataPart ? await textOf(metadataPart, maxMetadataBytes) : null;
  const { metadata, warnings, fields } = metadataOf(metadataText, json);
  // Hostile until checked: finite numbers, the right shapes, within caps (a UserError names what is wrong).
  const detector =
    fields.outOfDistribution == null
      ? null
      : checkOodDetector(fields.outOfDistribution, { numClasses: metadata.classNames.length });
  metadata.outOfDistribution = detector;
  // One weights file: model.json is rewritten to name it, as this app writes it; metadata.json's detector goes in it.
  const parsed = json as { weightsManifest: { weights: unknown[] }[]; userDefinedMetadata?: unknown };
  const manifest = [{ paths: ['weights.bin'], weights: parsed.weightsManifest.flatMap((g) => g.weights) }];
  const userDefinedMetadata = withDetector(parsed.userDefinedMetadata, detector);
  const modelJson = JSON.stringify({
    ...parsed,
    weightsManifest: manifest,
    ...(userDefinedMetadata ? { userDefinedMetadata } : {}),
  });
  return { name, files: { modelJson, weights: weights.buffer }, metadata, warnings };
}

/** model.json's userDefinedMetadata with metadata.json's detector in it (metadata.json's wins; the worker checks either). */
function withDetector(existing: unknown, detector: OodDetector | null): Record<string, unknown> | null {
  const base =
    existing && typeof existing === 'object' && !Array.isArray(existing) ? (existing as Record<string, unknown>) : null;
  if (!detector) return base;
  return { ...base, outOfDistribution: detector };
}

async function textOf(part: Part, limit: number): Promise<string> {
  if (part.size > limit) {
    throw new UserError(
      `${part.name} is ${formatBytes(part.size)}, over the ${formatBytes(limit)} limit for it: it is not a model this app made.`,
    );
  }
  return new TextDecoder().decode(await part.bytes(limit));
}

const baseName = (path: string) => path.split('/').pop() ?? path;

function looseParts(file: File): Part {
  return {
    name: file.name,
    size: file.size,
    bytes: async (limit) => new Uint8Array(await file.slice(0, limit).arrayBuffer()),
  };
}

/** The zip's files of a model; each refused from the directory alone when it would inflate past its cap or ratio. */
async function zipParts(file: File, reader: ZipReader<unknown>): Promise<Part[]> {
  let entries: Entry[];
  try {
    entries = await reader.getEntries();
  } catch {
    throw new UserError(`${file.name} is not a readable zip archive.`);
  }
  if (entries.length > MAX_ZIP_ENTRIES)
    throw new UserError(
      `${file.name} lists ${entries.length} files; a model zip has a handful. It is not a model this app made.`,
    );
  const wanted = entries.filter(
    (e): e is FileEntry => !e.directory && /^(model\.json|metadata\.json|.*\.bin)$/i.test(baseName(e.filename)),
  );
  if (wanted.some((e) => e.encrypted))
    throw new UserError(`${file.name} is password-protected: zip the model's files again without one.`);
  return wanted.map((entry) => ({
    name: baseName(entry.filename),
    size: entry.uncompressedSize,
    bytes: async (limit) => {
      const tooLarge =
        entry.uncompressedSize > limit
          ? `it is ${formatBytes(entry.uncompressedSize)}, over the ${formatBytes(limit)} it may be`
          : oversizeReason(entry.uncompressedSize, entry.compressedSize);
      if (tooLarge) throw new UserError(`${quote(baseName(entry.filename))} in ${file.name} is refused: ${tooLarge}.`);
      try {
        return await entry.getData(new CappedWriter(entry.uncompressedSize));
      } catch (error) {
        if (error instanceof UserError) throw error;
        if (error instanceof Error && error.cause instanceof UserError) throw error.cause;
        throw new UserError(
          `${quote(baseName(entry.filename))} in ${file.name} could not be read: the zip is damaged. Download the model again.`,
        );
      }
    },
  }));
}

/** Collects an entry's bytes into one buffer of its declared size, and fails the moment it inflates past it. */
class CappedWriter extends Writer<Uint8Array> {
  private readonly out: Uint8Array;
  private written = 0;

  constructor(private readonly declared: number) {
    super();
    this.out = new Uint8Array(declared);
  }

  override writeUint8Array(array: Uint8Array): Promise<void> {
    if (this.written + array.length > this.declared) {
      return Promise.reject(
        new UserError(
          `A file of the model inflates to more than the ${formatBytes(this.declared)} the zip declares: it may be a zip bomb.`,
        ),
      );
    }
    this.out.set(array, this.written);
    this.written += array.length;
    return Promise.resolve();
  }

  override getData(): Promise<Uint8Array> {
    return Promise.resolve(this.out.subarray(0, this.written));
  }
}
