import { describe, expect, it } from 'vitest';
import { NO_AUGMENTATION, NO_RECIPE } from '../core/settings';
import type { ImageSet, TestResult } from '../core/types';
import { buildReport } from '../eval/report';
import { trainerTransferables } from './transferables';
import {
  type FromTrainer,
  type ToTrainer,
  type TrainerReply,
  type TrainerRequest,
  type TrainProgress,
} from './protocol';

type AnyMessage = ToTrainer | FromTrainer;

function imageSet(count: number, size = 4): ImageSet {
  return {
    size,
    count,
    pixels: Uint8Array.from({ length: count * size * size }, (_, i) => i % 256),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 2),
  };
}

function testResult(): TestResult {
  return {
    loss: 0.4,
    accuracy: 0.8,
    scores: Float32Array.from([0.1, 0.9, 0.6]),
    labels: Uint8Array.from([0, 1, 1]),
    numClasses: 2,
    gallery: { indices: Uint32Array.from([0, 2]), pixels: Uint8Array.from({ length: 2 * 16 }, (_, i) => i), size: 4 },
  };
}

/** A small report as the worker builds it (NaN figures included: they must survive the clone). */
function sampleReport() {
  const split = { scores: Float32Array.from([0.2, 0.7, 0.9]), labels: Uint8Array.from([0, 1, 1]) };
  return buildReport(
    split,
    { ...split, groups: Uint32Array.from([1, 1, 2]) },
    {
      numClasses: 2,
      positiveClass: 1,
      settings: {
        thresholdRule: 'fixed',
        targetSensitivity: 95,
        temperatureScaling: false,
        testTimeAugmentation: 'off',
      },
      resamples: 20,
    },
  );
}

const AUGMENTATION = {
  ...NO_AUGMENTATION,
  rotation: 10,
  zoom: 0.2,
  shift: 0.1,
  shear: 10,
  brightness: 0.1,
  horizontalFlip: true,
};

/** One of every request, reply, progress and error kind, freshly made (transfer detaches buffers, so each test makes its own). */
function allMessages(): AnyMessage[] {
  const requests: TrainerRequest[] = [
    {
      type: 'setData',
      splits: { classNames: ['NORMAL', 'PNEUMONIA'], train: imageSet(3), validation: imageSet(2), test: imageSet(2) },
    },
    {
      type: 'setData',
      splits: { classNames: ['a', 'b', 'c'], train: imageSet(1), validation: imageSet(1), test: null },
    },
    { type: 'describeModel', model: 'batchnorm', imageSize: 150, numClasses: 2 },
    {
      type: 'train',
      settings: {
        model: 'batchnorm',
        imageSize: 150,
        epochs: 3,
        batchSize: 32,
        learningRate: 1e-3,
        learningRateSchedule: 'constant',
        intensityNormalisation: 'none',
        backend: 'auto',
        seed: 42,
        classWeighting: 'balanced',
        patience: 3,
        augmentation: AUGMENTATION,
        ...NO_RECIPE,
      },
    },
    { type: 'stop', run: 4 },
    { type: 'exportModel' },
    { type: 'previewAugmentation', augmentation: AUGMENTATION, indices: [5, 0, 9], variants: 3, seed: 1 },
    {
      type: 'evaluate',
      positiveClass: 1,
      settings: {
        thresholdRule: 'youden',
        targetSensitivity: 95,
        temperatureScaling: true,
        testTimeAugmentation: 'off',
      },
    },
    { type: 'evaluatedImages', indices: [4, 1] },
  ];
  const replies: TrainerReply[] = [
    { type: 'setData', counts: { train: 3, validation: 2, test: 0 } },
    {
      type: 'describeModel',
      model: 'batchnorm',
      imageSize: 150,
      summary: {
        layers: [{ name: 'conv2d_1', className: 'Conv2D', outputShape: '[null,149,149,32]', params: 160 }],
        totalParams: 160,
        trainableParams: 160,
      },
    },
    {
      type: 'train',
      reason: 'early-stopped',
      epochsDone: 5,
      bestEpoch: 1,
      restoredBest: true,
      test: testResult(),
      model: null,
      scores: null,
    },
    {
      type: 'train',
      reason: 'stopped',
      epochsDone: 1,
      bestEpoch: 0,
      restoredBest: false,
      test: null,
      model: null,
      scores: null,
    },
    { type: 'stop', stopping: true },
    {
      type: 'exportModel',
      modelJson: '{"format":"layers-model"}',
      weights: new Uint8Array([1, 2, 3, 4]).buffer,
      backend: 'webgl',
      epochsDone: 2,
      ood: null,
    },
    { type: 'previewAugmentation', size: 2, count: 1, variants: 2, classes: ['NORMAL'], pixels: new Uint8Array(8) },
    { type: 'evaluate', report: sampleReport() },
    { type: 'evaluatedImages', size: 2, indices: Uint32Array.from([4, 1]), pixels: new Uint8Array(8) },
  ];
  const progress: TrainProgress[] = [
    {
      type: 'backend',
      name: 'cpu',
      requested: 'webgl',
      note: 'WebGL could not start in this browser (x); training on the CPU backend, which is much slower.',
    },
    { type: 'trainingStarted', epochs: 2, batchesPerEpoch: 5, totalBatches: 10, classWeights: [1.94, 0.67] },
    {
      type: 'batchEnd',
      epoch: 0,
      batch: 1,
      batchesDone: 2,
      totalBatches: 10,
      loss: 0.69,
      accuracy: 0.5,
      imagesPerSecond: 120.5,
    },
    {
      type: 'epochEnd',
      epoch: 0,
      loss: 0.6,
      accuracy: 0.7,
      valLoss: NaN,
      valAccuracy: 0.65,
      bestEpoch: -1,
      tensors: 40,
    },
    { type: 'evaluating' },
  ];
  return [
    ...requests.map((request, i): AnyMessage => ({ id: i + 1, request })),
    ...replies.map((reply, i): AnyMessage => ({ type: 'reply', id: i + 1, reply })),
    ...progress.map((p): AnyMessage => ({ type: 'progress', id: 4, progress: p })),
    { type: 'error', id: 6, message: 'Something went wrong' },
  ];
}

const kindOf = (m: AnyMessage) =>
  'request' in m
    ? `request:${m.request.type}`
    : m.type === 'reply'
      ? `reply:${m.reply.type}`
      : m.type === 'progress'
        ? `progress:${m.progress.type}`
        : m.type;

/** Structured clone turns typed arrays and buffers into new objects; compare their contents. */
function plain(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return { buffer: Array.from(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) return { [value.constructor.name]: Array.from(value as Uint8Array) };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

describe('trainer protocol messages', () => {
  it('cover every request, reply and progress kind', () => {
    const kinds = new Set(allMessages().map(kindOf));
    const requestTypes = [
      'setData',
      'describeModel',
      'train',
      'stop',
      'exportModel',
      'previewAugmentation',
      'evaluate',
      'evaluatedImages',
    ];
    expect([...kinds].sort()).toEqual(
      [
        ...requestTypes.map((t) => `request:${t}`),
        ...requestTypes.map((t) => `reply:${t}`),
        ...['backend', 'trainingStarted', 'batchEnd', 'epochEnd', 'evaluating'].map((t) => `progress:${t}`),
        'error',
      ].sort(),
    );
  });

  it('name their request, every one', () => {
    for (const m of allMessages()) expect(Number.isInteger(m.id) && m.id > 0).toBe(true);
  });

  it.each(allMessages().map((m, i) => [`${i}: ${kindOf(m)}`, i] as const))(
    '%s survives a transfer-style structured clone',
    (_label, index) => {
      const original = allMessages()[index];
      const expected = plain(original);
      const transfer = trainerTransferables(original);
      const copy = structuredClone(original, { transfer });
      expect(plain(copy)).toEqual(expected);
      // Transferred buffers now belong to the receiver: the sender's are detached (empty).
      for (const buffer of transfer) expect((buffer as ArrayBuffer).byteLength).toBe(0);
    },
  );

  it('transfers the big buffers, each once', () => {
    const messages = allMessages();
    const find = (kind: string) => messages.find((m) => kindOf(m) === kind) as AnyMessage;
    expect(trainerTransferables(find('request:setData'))).toHaveLength(6);
    const shared = imageSet(2);
    const oneBuffer: ToTrainer = {
      id: 1,
      request: { type: 'setData', splits: { classNames: ['a', 'b'], train: shared, validation: shared, test: null } },
    };
    expect(trainerTransferables(oneBuffer)).toHaveLength(2);
    expect(trainerTransferables(find('reply:train'))).toHaveLength(4);
    expect(trainerTransferables(find('reply:exportModel'))).toHaveLength(1);
    expect(trainerTransferables(find('reply:previewAugmentation'))).toHaveLength(1);
    expect(trainerTransferables(find('reply:evaluatedImages'))).toHaveLength(2);
    expect(trainerTransferables(find('reply:evaluate'))).toEqual([]);
    expect(trainerTransferables(find('request:stop'))).toEqual([]);
    expect(trainerTransferables(find('progress:batchEnd'))).toEqual([]);
  });
});
