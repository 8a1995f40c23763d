/** A lost GPU and a backend that fails to start: said in words a person can act on, and the Trainer trains again. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTEXT_LOST_MESSAGE } from '../backends/webgl';
import { DEVICE_LOST_MESSAGE } from '../core/gpuLost';
import { data, isBatch, settings, setup } from './trainerHarness.testutil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Trainer: a lost GPU and a failing backend', () => {
  it('reports a lost WebGL context in words a person can act on, and can train again', async () => {
    let lose: (() => void) | null = null;
    let lostOnce = false;
    const { ask, progress, replies, errors } = setup(
      {
        watchContextLoss: (onLost) => {
          lose = onLost;
          return () => {
            lose = null;
          };
        },
      },
      (m) => {
        if (isBatch(m, 2) && !lostOnce) {
          lostOnce = true;
          lose?.();
        }
      },
    );
    await ask(data());
    const before = tf.memory().numTensors;
    await ask({ type: 'train', settings: settings() });
    expect(errors().map((e) => e.message)).toEqual([CONTEXT_LOST_MESSAGE]);
    expect(replies('train')).toHaveLength(0);
    expect(progress('batchEnd')).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(before);
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    expect(replies('train')).toHaveLength(1);
  });

  it('names a lost WebGPU device, also when a failed GPU read reaches the run before the loss does', async () => {
    let failedOnce = false;
    const { ask, replies, errors } = setup(
      {
        choose: async () => {
          await tf.setBackend('cpu');
          return { name: 'webgpu', note: '' };
        },
        // The browser tells of the lost device only after the read failed: the run asks, and waits.
        confirmLoss: async () => failedOnce,
      },
      (m) => {
        if (isBatch(m, 2) && !failedOnce) {
          failedOnce = true;
          throw new Error(
            "Failed to execute 'mapAsync' on 'GPUBuffer': Buffer was unmapped before mapping was resolved.",
          );
        }
      },
    );
    await ask(data());
    await ask({ type: 'train', settings: settings() });
    expect(errors().map((e) => e.message)).toEqual([DEVICE_LOST_MESSAGE]);
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    expect(replies('train')).toHaveLength(1);
  });

  it('reports a backend that fails to start', async () => {
    const { ask, replies, errors } = setup({
      choose: async () => {
        throw new Error('Even the CPU backend of TensorFlow.js failed to start: reload the page.');
      },
    });
    await ask(data());
    await ask({ type: 'train', settings: settings() });
    expect(errors()[0].message).toMatch(/reload the page/);
    // The worker is still usable afterwards.
    await ask({ type: 'describeModel', model: 'tutorial', imageSize: 32, numClasses: 2 });
    expect(replies('describeModel')).toHaveLength(1);
  });
});
