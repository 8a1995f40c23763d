import { describe, expect, it } from 'vitest';
import {
  transferablesOf,
  type FromDecoder,
  type FromTrainer,
  type ImageSet,
  type ToDecoder,
  type ToTrainer,
} from './protocol';

type AnyMessage = ToTrainer | FromTrainer | ToDecoder | FromDecoder;

function imageSet(count: number, size = 4): ImageSet {
  return {
    size,
    count,
    pixels: Uint8Array.from({ length: count * size * size }, (_, i) => i % 256),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 2),
  };
}

/** One of every message kind, freshly made (transfer detaches buffers, so each test makes its own). */
function allMessages(): AnyMessage[] {
  return [
    { type: 'setData', classNames: ['NORMAL', 'PNEUMONIA'], train: imageSet(3), validation: imageSet(2), test: imageSet(2) },
    { type: 'setData', classNames: ['a', 'b', 'c'], train: imageSet(1), validation: imageSet(1), test: null },
    { type: 'describeModel', imageSize: 150, numClasses: 2 },
    { type: 'train', settings: { imageSize: 150, epochs: 3, batchSize: 32, learningRate: 1e-3, backend: 'auto', seed: 42, classWeighting: 'balanced', patience: 3,
        augmentation: { rotation: 10, zoom: 0.2, shift: 0.1, shear: 10, brightness: 0, horizontalFlip: false }, validationPercent: 10 } },
    { type: 'stop' },
    { type: 'exportModel' },
    { type: 'previewAugmentation', id: 1, augmentation: { rotation: 10, zoom: 0.2, shift: 0.1, shear: 10, brightness: 0.1, horizontalFlip: true }, seed: 1, count: 8, variants: 3 },
    { type: 'augmentationPreview', id: 1, size: 2, count: 1, variants: 2, classes: ['NORMAL'], pixels: new Uint8Array(8) },
    { type: 'dataReady', counts: { train: 3, validation: 2, test: 0 } },
    { type: 'backend', name: 'cpu', requested: 'webgl', note: 'WebGL could not start in this browser (x); training on the CPU backend, which is much slower.' },
    {
      type: 'modelSummary',
      imageSize: 150,
      summary: { layers: [{ name: 'conv2d_1', className: 'Conv2D', outputShape: '[null,149,149,32]', params: 160 }], totalParams: 160, trainableParams: 160 },
    },
    { type: 'trainingStarted', epochs: 2, batchesPerEpoch: 5, totalBatches: 10, classWeights: [1.94, 0.67] },
    { type: 'batchEnd', epoch: 0, batch: 1, batchesDone: 2, totalBatches: 10, loss: 0.69, accuracy: 0.5, imagesPerSecond: 120.5 },
    { type: 'epochEnd', epoch: 0, loss: 0.6, accuracy: 0.7, valLoss: NaN, valAccuracy: 0.65, bestEpoch: -1, tensors: 40 },
    { type: 'evaluating' },
    {
      type: 'testResult', loss: 0.4, accuracy: 0.8, scores: Float32Array.from([0.1, 0.9, 0.6]), labels: Uint8Array.from([0, 1, 1]), numClasses: 2,
      gallery: { indices: Uint32Array.from([0, 2]), pixels: Uint8Array.from({ length: 2 * 16 }, (_, i) => i), size: 4 },
    },
    { type: 'trainingEnded', reason: 'early-stopped', epochsDone: 5, bestEpoch: 1, restoredBest: true },
    { type: 'modelExported', modelJson: '{"format":"layers-model"}', weights: new Uint8Array([1, 2, 3, 4]).buffer, backend: 'webgl', epochsDone: 2 },
    { type: 'error', message: 'Something went wrong' },
    { type: 'decode', id: 7, blob: new Blob([new Uint8Array([1, 2, 3])]), size: 150 },
    {
      type: 'decode', id: 9, size: 150,
      zip: { archive: new Blob([new Uint8Array(64)]), offset: 0, method: 8, compressedSize: 2, size: 3, crc32: 0x12345678, path: 'train/a/1.jpeg', maxEntryBytes: 1024 },
    },
    { type: 'decoded', id: 7, pixels: Uint8Array.from([9, 8, 7]), sourceWidth: 1500, sourceHeight: 1200, bytesRead: 3, readMs: 0.5 },
    { type: 'decodeFailed', id: 8, message: 'not an image' },
    { type: 'decodeFailed', id: 10, message: 'it inflates to over 256 MiB', tooLarge: true },
  ];
}

/** Structured clone turns typed arrays and buffers into new objects; compare their contents. */
function plain(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return { buffer: Array.from(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) return { [value.constructor.name]: Array.from(value as Uint8Array) };
  if (value instanceof Blob) return { blob: value.size };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

describe('protocol messages', () => {
  it('cover every message kind', () => {
    const kinds = new Set(allMessages().map((m) => m.type));
    expect([...kinds].sort()).toEqual(
      [
        'setData', 'describeModel', 'train', 'stop', 'exportModel', 'previewAugmentation',
        'dataReady', 'backend', 'modelSummary', 'trainingStarted', 'batchEnd', 'epochEnd', 'evaluating', 'testResult', 'trainingEnded', 'modelExported',
        'augmentationPreview', 'error',
        'decode', 'decoded', 'decodeFailed',
      ].sort(),
    );
  });

  it.each(allMessages().map((m, i) => [`${i}: ${m.type}`, i] as const))('%s survives a transfer-style structured clone', (_label, index) => {
    const original = allMessages()[index];
    const expected = plain(original);
    const transfer = transferablesOf(original);
    const copy = structuredClone(original, { transfer });
    expect(plain(copy)).toEqual(expected);
    // Transferred buffers now belong to the receiver: the sender's are detached (empty).
    for (const buffer of transfer) expect((buffer as ArrayBuffer).byteLength).toBe(0);
  });

  it('transfers the big buffers, each once', () => {
    const [setData] = allMessages();
    expect(transferablesOf(setData)).toHaveLength(6);
    const shared = imageSet(2);
    const oneBuffer: ToTrainer = { type: 'setData', classNames: ['a', 'b'], train: shared, validation: shared, test: null };
    expect(transferablesOf(oneBuffer)).toHaveLength(2);
    const testResult = allMessages().find((m) => m.type === 'testResult') as AnyMessage;
    expect(transferablesOf(testResult)).toHaveLength(4);
    const exported = allMessages().find((m) => m.type === 'modelExported') as AnyMessage;
    expect(transferablesOf(exported)).toHaveLength(1);
    const preview = allMessages().find((m) => m.type === 'augmentationPreview') as AnyMessage;
    expect(transferablesOf(preview)).toHaveLength(1);
    expect(transferablesOf({ type: 'stop' })).toEqual([]);
  });
});
