/**
 * Our native WASM kernels (csrc/) against tfjs' cpu backend as shipped: the max-pool gradient
 * exactly, the BatchNormalization layer in training (output, moving statistics and every gradient)
 * to 1e-5, and training steps of the BatchNorm CNN; plus the module's safety in tfjs' heap.
 * Here: the compiled modules, RMSprop and whole training steps; each kernel's values are in native*Kernels.test.ts
 * (pool, batch norm, conv, elementwise).
 * Node runs tfjs-backend-wasm's single-threaded SIMD build, whose heap is an ordinary memory (training.wasm).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { hasBatchNormTrainingKernels } from '../../model/batchNormTraining';
import { buildModel } from '../../model/models';
import { rmsprop } from '../../model/rmsprop';
import { values } from '../backendCompare.testutil';
import { problemOfKernelsModule } from './moduleCheck';
import { nativeKernelsFor } from './nativeKernels';
import { relativeError, withNativeKernels } from './nativeKernels.testutil';

const here = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));

withNativeKernels();

describe('the compiled modules', () => {
  it.each(['training.wasm', 'training-shared.wasm'])(
    '%s imports only tfjs’ memory and writes nothing of its own into it',
    (file) => {
      expect(problemOfKernelsModule(readFileSync(here(file)))).toBeNull();
    },
  );

  it('load into the WASM backend’s heap and register the BatchNormalization kernels there only', async () => {
    expect(nativeKernelsFor(tf.findBackend('wasm') as BackendWasm)).not.toBeNull();
    await tf.setBackend('wasm');
    expect(hasBatchNormTrainingKernels()).toBe(true);
    await tf.setBackend('cpu');
    expect(hasBatchNormTrainingKernels()).toBe(false);
  });

  const clang = ['/usr/bin/clang', '/usr/bin/wasm-ld'].every(existsSync);
  it.skipIf(!clang)('are what csrc/ compiles to (where clang and wasm-ld are installed)', () => {
    const out = mkdtempSync(join(tmpdir(), 'native-'));
    execFileSync('bash', [fileURLToPath(new URL('../../../scripts/build-native-kernels.sh', import.meta.url)), out], {
      stdio: 'pipe',
    });
    for (const file of ['training.wasm', 'training-shared.wasm']) {
      expect(
        readFileSync(join(out, file)).equals(readFileSync(here(file))),
        `${file} is stale: run npm run build:kernels`,
      ).toBe(true);
    }
  });
});

describe('RMSprop through RMSPropUpdate matches tfjs’ own on the cpu backend', () => {
  it('three steps of two variables: values and state', async () => {
    const run = async (backend: string, ours: boolean): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      const a = tf.tidy(() => tf.variable(tf.tensor2d(values(35, 81), [5, 7]), true, `a_${backend}_${ours}`));
      const b = tf.tidy(() => tf.variable(tf.tensor1d(values(3, 82)), true, `b_${backend}_${ours}`));
      const optimizer = ours ? rmsprop(1e-2, 0.9, 0, 1e-7) : tf.train.rmsprop(1e-2, 0.9, 0, 1e-7);
      for (let step = 0; step < 3; step++) {
        tf.tidy(() =>
          optimizer.applyGradients({
            [a.name]: tf.tensor2d(values(35, 83 + step), [5, 7]),
            [b.name]: tf.tensor1d(values(3, 90 + step)),
          }),
        );
      }
      const state = await optimizer.getWeights();
      const out = await Promise.all(
        [a, b, ...state.slice(1).map((s) => s.tensor)].map(async (t) => (await t.data()) as Float32Array),
      );
      optimizer.dispose();
      tf.dispose([a, b, ...state.map((s) => s.tensor)]);
      return out;
    };
    const expected = await run('cpu', false);
    const before = tf.memory().numTensors;
    const actual = await run('wasm', true);
    expect(tf.memory().numTensors).toBe(before);
    expect(actual.length).toBe(6); // a, b, their mean squares and moments
    for (let i = 0; i < expected.length; i++) expect(relativeError(actual[i], expected[i])).toBeLessThan(1e-6);
  });

  it('is one kernel a variable on wasm', async () => {
    await tf.setBackend('wasm');
    const a = tf.variable(tf.ones([4]));
    const optimizer = rmsprop(1e-3);
    const profile = await tf.profile(() => tf.tidy(() => optimizer.applyGradients({ [a.name]: tf.ones([4]) })));
    expect(
      profile.kernelNames.filter((name) => name !== 'Identity' && name !== 'ZerosLike' && name !== 'Fill'),
    ).toEqual(['RMSPropUpdate']);
    optimizer.dispose();
    a.dispose();
  });
});

describe.each(['batchnorm', 'tutorial'] as const)(
  'training the %s CNN (32 px) on wasm with the native kernels',
  (name) => {
    async function losses(backend: string): Promise<{ losses: number[]; tensors: number[] }> {
      await tf.setBackend(backend);
      const model = buildModel(name, { imageSize: 32, numClasses: 2, learningRate: 1e-3, seed: 5, dropoutSeed: 6 });
      const xs = tf.tensor4d(
        values(8 * 32 * 32, 51).map((v) => 0.5 + 0.5 * v),
        [8, 32, 32, 1],
      );
      const ys = tf.tensor2d([0, 1, 0, 1, 1, 0, 1, 0], [8, 1]);
      const out = { losses: [] as number[], tensors: [] as number[] };
      for (let i = 0; i < 5; i++) {
        const result = await model.trainOnBatch(xs, ys);
        out.losses.push(Array.isArray(result) ? result[0] : result);
        out.tensors.push(tf.memory().numTensors);
      }
      tf.dispose([xs, ys]);
      model.dispose();
      return out;
    }

    it('follows the cpu loss trajectory, with a flat tensor count', async () => {
      const cpu = await losses('cpu');
      const wasm = await losses('wasm');
      console.log(`losses cpu [${cpu.losses.map((l) => l.toFixed(6))}] wasm [${wasm.losses.map((l) => l.toFixed(6))}]`);
      for (let i = 0; i < cpu.losses.length; i++) expect(wasm.losses[i]).toBeCloseTo(cpu.losses[i], 4);
      expect(new Set(wasm.tensors.slice(1)).size).toBe(1);
    });
  },
);
