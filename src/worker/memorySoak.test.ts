/**
 * Memory soak (issue 12): 50 epochs through the real Trainer on generated images, on WebAssembly with our kernels. The
 * tensors and the backend's buffers left at each epoch's end stay exactly flat (batches, augmentation, validation,
 * checkpoints, the kernels' intermediates all freed), the WASM heap stops growing, and the JS heap stays bounded.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataIds } from '../backends/wasmKernels.testutil';
import { WasmOnlyBackends } from '../backends/wasmOnly.testutil';
import { syntheticSet } from '../model/testImages.testutil';
import { NO_AUGMENTATION, NO_RECIPE } from '../core/settings';
import type { FromTrainer } from './protocol';
import { Trainer } from './trainer';

const SIZE = 32;
const EPOCHS = 50;

// A garbage collection before each heap reading, so the figure is what is live, not what V8 has yet to collect.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('a 50-epoch run', () => {
  it('keeps the tensor count flat and the heap bounded', { timeout: 240_000 }, async () => {
    const tensorsAtEpochEnd: number[] = [];
    const heapAtEpochEnd: number[] = [];
    // The backend's own buffers (our kernels' intermediates too, which no tensor counts) and the WASM heap's size.
    const dataAtEpochEnd: number[] = [];
    const wasmHeapAtEpochEnd: number[] = [];
    let checkpoints = 0;
    const trainer = new Trainer(
      (m: FromTrainer) => {
        if (m.type !== 'progress') return;
        if (m.progress.type === 'epochEnd') {
          tensorsAtEpochEnd.push(m.progress.tensors);
          dataAtEpochEnd.push(dataIds());
          wasmHeapAtEpochEnd.push((tf.engine().backend as BackendWasm).wasm.HEAPU8.byteLength);
          gc();
          heapAtEpochEnd.push(process.memoryUsage().heapUsed);
        }
        if (m.progress.type === 'checkpoint') checkpoints++;
      },
      { backends: new WasmOnlyBackends('') },
    );
    await trainer.handle({
      id: 1,
      request: {
        type: 'setData',
        splits: {
          classNames: ['a', 'b'],
          train: syntheticSet(8, SIZE, 2, 1),
          validation: syntheticSet(4, SIZE, 2, 2),
          test: null,
        },
      },
    });
    const before = tf.memory().numTensors;
    await trainer.handle({
      id: 2,
      request: {
        type: 'train',
        settings: {
          model: 'tutorial',
          imageSize: SIZE,
          epochs: EPOCHS,
          batchSize: 8,
          learningRate: 1e-3,
          learningRateSchedule: 'constant',
          intensityNormalisation: 'none',
          backend: 'wasm',
          seed: 1,
          classWeighting: 'balanced',
          patience: 0,
          augmentation: { ...NO_AUGMENTATION, rotation: 5, brightness: 0.1 },
          ...NO_RECIPE,
        },
      },
    });
    expect(tensorsAtEpochEnd).toHaveLength(EPOCHS);
    expect(checkpoints).toBe(EPOCHS);
    expect(new Set(tensorsAtEpochEnd).size).toBe(1);
    // No intermediate of our WASM kernels outlives its step, and the WASM heap (which never shrinks) stops growing.
    expect(new Set(dataAtEpochEnd).size).toBe(1);
    expect(Math.max(...wasmHeapAtEpochEnd.slice(10))).toBe(wasmHeapAtEpochEnd[10]);
    // Heap (after a collection): past the first 10 epochs (lazy initialisation, JIT), growth over the next 40 stays under 4 MB.
    const mb = (b: number) => b / 2 ** 20;
    const settled = heapAtEpochEnd.slice(10);
    const growth = mb(Math.max(...settled) - settled[0]);
    console.log(
      `memory soak, ${EPOCHS} epochs: tensors at every epoch end ${tensorsAtEpochEnd[0]} (model ${tf.memory().numTensors - before} after the run), ` +
        `backend buffers ${dataAtEpochEnd[0]}, WASM heap ${mb(wasmHeapAtEpochEnd[EPOCHS - 1]).toFixed(0)} MB; ` +
        `heap ${mb(heapAtEpochEnd[10]).toFixed(1)} MB after epoch 10, ${mb(heapAtEpochEnd[EPOCHS - 1]).toFixed(1)} MB after epoch ${EPOCHS}, largest rise ${growth.toFixed(1)} MB`,
    );
    expect(growth).toBeLessThan(4);
  });
});
