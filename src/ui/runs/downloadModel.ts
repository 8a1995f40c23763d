import { BlobWriter, TextReader, Uint8ArrayReader, ZipWriter } from '@zip.js/zip.js';
import type { ModelMetadata } from '../../core/types';
import { nextTask } from '../../core/timeSlicer';

/**
 * The bytes as zip.js reads them, a chunk (512 KiB) a task: its stream otherwise checksums and deflates megabytes of
 * weights in one task on the page's thread (70 ms at 150 px here), which a click on the page would wait for.
 */
export class ChunkedUint8ArrayReader extends Uint8ArrayReader {
  override async readUint8Array(index: number, length: number): Promise<Uint8Array> {
    await nextTask();
    return super.readUint8Array(index, length);
  }
}

/** A text file beside the model in a download (the model card). */
export interface TextFile {
  name: string;
  text: string;
}

/** One zip a person can keep: model.json + weights.bin (TensorFlow.js layers format) + metadata.json, and `extra` files. */
export async function zipModel(
  modelJson: string,
  weights: ArrayBuffer,
  metadata: ModelMetadata,
  extra: readonly TextFile[] = [],
): Promise<Blob> {
  const writer = new ZipWriter(new BlobWriter('application/zip'), { useWebWorkers: false });
  await writer.add('model.json', new TextReader(modelJson));
  await writer.add('weights.bin', new ChunkedUint8ArrayReader(new Uint8Array(weights)));
  await writer.add('metadata.json', new TextReader(JSON.stringify(metadata, null, 2)));
  for (const file of extra) await writer.add(file.name, new TextReader(file.text));
  return writer.close();
}

/** Saves a blob through the browser's download (no server involved). */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  // Give the browser time to start the download before the URL goes.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
