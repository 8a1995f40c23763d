import { BlobWriter, TextReader, Uint8ArrayReader, ZipWriter } from '@zip.js/zip.js';
import { describe, expect, it } from 'vitest';
import { readModelFile } from './loadModelFile';

const topology = {
  class_name: 'Sequential',
  config: { layers: [{ class_name: 'Conv2D', config: { batch_input_shape: [null, 40, 40, 1] } }, { class_name: 'Dense', config: { units: 1 } }] },
};
const modelJson = (paths: string[]) => JSON.stringify({ modelTopology: { model_config: topology }, weightsManifest: [{ paths, weights: [] }] });

async function zipOf(files: Record<string, string | Uint8Array>, name = 'model.zip'): Promise<File> {
  const writer = new ZipWriter(new BlobWriter('application/zip'), { useWebWorkers: false });
  for (const [path, content] of Object.entries(files)) await writer.add(path, typeof content === 'string' ? new TextReader(content) : new Uint8ArrayReader(content));
  return new File([await writer.close()], name);
}

describe('Load model', () => {
  it('reads a Download model zip: its weights joined in manifest order, its metadata', async () => {
    const file = await zipOf({
      'model.json': modelJson(['a.bin', 'b.bin']),
      'a.bin': new Uint8Array([1, 2]),
      'b.bin': new Uint8Array([3]),
      'metadata.json': JSON.stringify({ classNames: ['NORMAL', 'PNEUMONIA'], imageSize: 40, model: 'batchnorm', threshold: 0.4, thresholdClass: 'PNEUMONIA' }),
    });
    const loaded = await readModelFile([file]);
    expect(Array.from(new Uint8Array(loaded.files.weights))).toEqual([1, 2, 3]);
    expect(JSON.parse(loaded.files.modelJson).weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(loaded.metadata).toMatchObject({ classNames: ['NORMAL', 'PNEUMONIA'], imageSize: 40, model: 'batchnorm', threshold: 0.4, output: 'sigmoid' });
    expect(loaded.warnings).toEqual([]);
  });

  it('takes the three files loose, and guesses class names (saying so) without metadata.json', async () => {
    const loaded = await readModelFile([new File([modelJson(['weights.bin'])], 'model.json'), new File([new Uint8Array([9])], 'weights.bin')]);
    expect(loaded.metadata.classNames).toEqual(['class 0', 'class 1']);
    expect(loaded.warnings.join(' ')).toMatch(/no metadata\.json/);
  });

  it('refuses, in words, what is not such a model', async () => {
    await expect(readModelFile([await zipOf({ 'readme.txt': 'hello' })])).rejects.toThrow(/has no model\.json/);
    await expect(readModelFile([new File(['not a zip'], 'x.zip')])).rejects.toThrow(/not a readable zip/);
    await expect(readModelFile([await zipOf({ 'model.json': modelJson(['w.bin']) })])).rejects.toThrow(/lacks the weights file .*w\.bin/);
    await expect(readModelFile([await zipOf({ 'model.json': '{oops' })])).rejects.toThrow(/not JSON/);
    const mismatch = await zipOf({ 'model.json': modelJson(['w.bin']), 'w.bin': new Uint8Array([1]), 'metadata.json': JSON.stringify({ imageSize: 64 }) });
    await expect(readModelFile([mismatch])).rejects.toThrow(/do not belong together/);
  });

  it('puts metadata.json\'s out-of-distribution statistics into model.json for the worker, and refuses damaged ones', async () => {
    const detector = {
      method: 'mahalanobis-tied-covariance', featureLayer: 'dense_1', classMeans: [[0, 1], [2, 3]], precision: [[2, 0.5], [0.5, 1]],
      threshold: 7.5, quantile: 0.95, shrinkage: 0.1, trainImages: 40, validationImages: 10,
    };
    const files = (ood: unknown) => ({
      'model.json': modelJson(['w.bin']),
      'w.bin': new Uint8Array([1]),
      'metadata.json': JSON.stringify({ classNames: ['NORMAL', 'PNEUMONIA'], imageSize: 40, outOfDistribution: ood }),
    });
    const loaded = await readModelFile([await zipOf(files(detector))]);
    expect(loaded.metadata.outOfDistribution).toEqual(detector);
    expect(JSON.parse(loaded.files.modelJson).userDefinedMetadata.outOfDistribution).toEqual(detector);
    const damaged = { ...detector, precision: [[2, 0.5], [0.5, 'Infinity']] };
    await expect(readModelFile([await zipOf(files(damaged))])).rejects.toThrow(/out-of-distribution statistics .* damaged: a number of precision/);
    const tooMany = { ...detector, classMeans: [[0, 1], [2, 3], [4, 5]] };
    await expect(readModelFile([await zipOf(files(tooMany))])).rejects.toThrow(/3 class means for 2 classes/);
  });
});
