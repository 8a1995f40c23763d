/**
 * `Download model` in each `Model format`: the TensorFlow.js zip (model.json, weights.bin, metadata.json), a zip of an
 * ONNX or Keras HDF5 file written in the training worker, or the PyTorch bundle (train.py and its xray_trainer/ modules,
 * manifest.csv, settings.json, README.md, and the model as model.zip for train.py's --init); each with model-card.md
 * and model-card.json.
 * Everything is made in this tab.
 */
import { BlobWriter, TextReader, ZipWriter } from '@zip.js/zip.js';
import type { ManifestRow, ModelMetadata, Settings } from '../../core/types';
import { UserError } from '../../core/userError';
import { KERAS_CUSTOM_LAYERS_FILE, KERAS_CUSTOM_LAYERS_PY } from '../../export/kerasCustomLayers';
import { pytorchBundleFiles } from '../../export/pytorchBundle';
import type { ExportedModel } from '../../worker/protocol';
import { ChunkedUint8ArrayReader, zipModel, type TextFile } from './downloadModel';

export const MODEL_FORMATS = ['tfjs', 'onnx', 'keras', 'pytorch'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

export const FORMAT_TEXT: Readonly<Record<ModelFormat, string>> = {
  tfjs: 'TensorFlow.js',
  onnx: 'ONNX',
  keras: 'Keras HDF5',
  pytorch: 'PyTorch bundle',
};

export const FORMAT_HINT: Readonly<Record<ModelFormat, string>> = {
  tfjs: 'A zip with model.json and weights.bin (TensorFlow.js layers format) and metadata.json.',
  onnx: 'A zip with one .onnx file (opset 13): input "image" [N, size, size, 1] grey / 255, output "probabilities" (and "features", for judging images unlike the training data); class names, size, threshold and those statistics in its metadata.',
  keras:
    'A zip with one .h5 file in the Keras 2 HDF5 layout (model_config, model_weights, training_config); load with keras.models.load_model (with per-image standardisation, also per_image_standardization.py: pass its class as a custom object).',
  pytorch:
    'A zip with train.py and the modules it runs (xray_trainer/; PyTorch, DistributedDataParallel), manifest.csv (every image of the loaded dataset: path, split, class, patient), settings.json, README.md and this model (model.zip).',
};

export interface DownloadInput {
  format: ModelFormat;
  metadata: ModelMetadata;
  settings: Settings;
  /** The loaded dataset's images (PyTorch bundle only); null when no dataset with files is loaded. */
  manifest: ManifestRow[] | null;
  /** model-card.md and model-card.json (modelCard.ts), put in every download. */
  card: readonly TextFile[];
  /** Asks the worker for the model (converted when the format needs it). */
  exportModel: (request: { format?: 'tfjs' | 'onnx' | 'keras'; metadata?: ModelMetadata }) => Promise<ExportedModel>;
}

/** The file to save and its name. */
export async function modelDownload({
  format,
  metadata,
  settings,
  manifest,
  card,
  exportModel,
}: DownloadInput): Promise<{ blob: Blob; name: string; model: ExportedModel }> {
  const base = `xray-classifier-${metadata.imageSize}px`;
  switch (format) {
    case 'tfjs': {
      const model = await exportModel({});
      return {
        blob: await zipModel(model.modelJson, model.weights, withEpochs(metadata, model), card),
        name: `${base}.zip`,
        model,
      };
    }
    case 'onnx':
    case 'keras': {
      const model = await exportModel({ format, metadata });
      if (!model.converted) throw new Error(`The worker wrote no ${FORMAT_TEXT[format]} file.`);
      // A zip, so the model card travels with the model file.
      const writer = new ZipWriter(new BlobWriter('application/zip'), { useWebWorkers: false });
      await writer.add(`${base}.${format === 'onnx' ? 'onnx' : 'h5'}`, new ChunkedUint8ArrayReader(model.converted));
      // Keras has no class for the app's normalisation layer: the download brings it (load_model's custom_objects).
      if (format === 'keras' && settings.intensityNormalisation === 'per-image')
        await writer.add(KERAS_CUSTOM_LAYERS_FILE, new TextReader(KERAS_CUSTOM_LAYERS_PY));
      for (const file of card) await writer.add(file.name, new TextReader(file.text));
      return { blob: await writer.close(), name: `${base}-${format}.zip`, model };
    }
    case 'pytorch': {
      if (!manifest || manifest.length === 0) {
        throw new UserError(
          'The PyTorch bundle lists the images of the loaded dataset (manifest.csv): load the dataset the model was trained on (a zip or folder, not the demo).',
        );
      }
      const model = await exportModel({});
      const files = pytorchBundleFiles({ settings, classNames: metadata.classNames, rows: manifest });
      const inner = await zipModel(model.modelJson, model.weights, withEpochs(metadata, model));
      const writer = new ZipWriter(new BlobWriter('application/zip'), { useWebWorkers: false });
      for (const file of [...files, ...card]) await writer.add(file.name, new TextReader(file.text));
      await writer.add('model.zip', new ChunkedUint8ArrayReader(new Uint8Array(await inner.arrayBuffer())));
      return { blob: await writer.close(), name: `${base}-pytorch-bundle.zip`, model };
    }
  }
}

/** What the worker knows of its model: the epochs, the backend, and the out-of-distribution detector it carries. */
function withEpochs(metadata: ModelMetadata, model: ExportedModel): ModelMetadata {
  return {
    ...metadata,
    trainedEpochs: model.epochsDone || metadata.trainedEpochs,
    backend: model.backend || metadata.backend,
    outOfDistribution: model.ood,
  };
}
