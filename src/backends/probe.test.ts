import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  describeOutcomes,
  fastest,
  msPerImage,
  PROBE_BATCH_CAP,
  probeBatch,
  raceBackends,
  WARM_UP_BUDGET_MS,
  type ProbeCandidate,
} from './probe';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('backend probe', () => {
  it('times real training steps and leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    let clock = 0;
    // A fake clock: each call advances 40 ms, so a timed step of the run's 32 images costs 40 / 32 ms an image.
    const ms = await msPerImage({ imageSize: 32, numClasses: 2, batchSize: 32 }, () => (clock += 40));
    expect(ms).toBeCloseTo(40 / 32);
    expect(tf.memory().numTensors).toBe(before);
    const real = await msPerImage({ imageSize: 32, numClasses: 3, batchSize: 4 });
    expect(real).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("times the run's own batch size, capped so that a huge batch cannot make the probe long", async () => {
    expect(probeBatch({ imageSize: 32, numClasses: 2, batchSize: 32 })).toBe(32);
    expect(probeBatch({ imageSize: 32, numClasses: 2, batchSize: 3 })).toBe(3);
    expect(PROBE_BATCH_CAP).toBe(64);
    expect(probeBatch({ imageSize: 32, numClasses: 2, batchSize: 512 })).toBe(PROBE_BATCH_CAP);
    let clock = 0;
    const ms = await msPerImage({ imageSize: 32, numClasses: 2, batchSize: 512 }, () => (clock += 64));
    expect(ms).toBeCloseTo(64 / PROBE_BATCH_CAP);
  });

  it('gives no timed step to a backend whose warm-up is over its budget', async () => {
    let calls = 0;
    // Each clock reading advances 100 ms: the warm-up takes 100 ms, over a budget of 50.
    const ms = await msPerImage({ imageSize: 32, numClasses: 2, batchSize: 4 }, () => ++calls * 100, 50);
    expect(calls).toBe(2);
    expect(ms).toBeCloseTo(100 / 4);
  });

  it('picks the fastest backend that started and says what it measured', () => {
    const outcomes = [
      { name: 'webgl', msPerImage: 20, problem: null },
      { name: 'wasm', msPerImage: 2, problem: null },
      { name: 'webgpu', msPerImage: null, problem: 'not included' },
    ];
    expect(fastest(outcomes)?.name).toBe('wasm');
    expect(describeOutcomes(outcomes)).toBe('webgl 50 images/s, wasm 500 images/s, webgpu unavailable (not included)');
    expect(fastest([{ name: 'webgl', msPerImage: null, problem: 'x' }])).toBeNull();
  });

  it('never lets a software GPU win while another backend runs, and says which ran in software', () => {
    const outcomes = [
      { name: 'webgl', msPerImage: 1, problem: null, software: true },
      { name: 'wasm', msPerImage: 5, problem: null },
      { name: 'webgpu', msPerImage: 0.5, problem: null, software: true },
    ];
    expect(fastest(outcomes)?.name).toBe('wasm');
    expect(describeOutcomes(outcomes)).toBe(
      'webgl 1000 images/s, wasm 200 images/s, webgpu 2000 images/s' +
        '; webgl and webgpu in software: never picked while another backend runs',
    );
    // A real GPU that is faster wins.
    const realGpu = { name: 'webgpu', msPerImage: 0.5, problem: null, software: false };
    expect(fastest([{ name: 'wasm', msPerImage: 5, problem: null }, realGpu])?.name).toBe('webgpu');
    // Only a software GPU runs: better than nothing.
    const softwareGpu = { name: 'webgl', msPerImage: 9, problem: null, software: true };
    expect(fastest([{ name: 'wasm', msPerImage: null, problem: 'x' }, softwareGpu])?.name).toBe('webgl');
  });

  describe('race', () => {
    const shape = { imageSize: 32, numClasses: 2, batchSize: 32 };
    /** Candidates whose start answers `problem` (null: it runs); the current backend is recorded in `current`. */
    function candidates(specs: { name: string; problem?: string; software?: boolean }[]) {
      const state = { current: '', started: [] as string[] };
      const list: ProbeCandidate[] = specs.map((spec) => ({
        name: spec.name,
        start: () => {
          state.started.push(spec.name);
          if (spec.problem) return Promise.resolve(spec.problem);
          state.current = spec.name;
          return Promise.resolve(null);
        },
        software: () => spec.software ?? false,
      }));
      return { list, state };
    }
    /** A timer from ms per image per backend, recording which backend it timed, and with what warm-up budget. */
    function timer(state: { current: string }, msPerImageOf: Record<string, number>) {
      const timed: { name: string; budget: number }[] = [];
      const time = (budget: number) => {
        timed.push({ name: state.current, budget });
        return Promise.resolve(msPerImageOf[state.current]);
      };
      return { time, timed };
    }

    it('does not time a software GPU once a real backend works, and says so in the note', async () => {
      const { list, state } = candidates([
        { name: 'webgl', software: true },
        { name: 'wasm' },
        { name: 'webgpu', software: true },
      ]);
      const { time, timed } = timer(state, { webgl: 1, wasm: 5, webgpu: 0.5 });
      const outcomes = await raceBackends(list, shape, time);
      expect(timed.map((t) => t.name)).toEqual(['wasm']);
      expect(outcomes.map((o) => o.name)).toEqual(['webgl', 'wasm', 'webgpu']);
      expect(fastest(outcomes)?.name).toBe('wasm');
      expect(describeOutcomes(outcomes)).toBe(
        'webgl in software (not timed), wasm 200 images/s, webgpu in software (not timed)' +
          '; webgl and webgpu in software: never picked while another backend runs',
      );
    });

    it('times a software GPU, and picks it, when nothing else works', async () => {
      const { list, state } = candidates([
        { name: 'webgl', software: true },
        { name: 'wasm', problem: 'no wasm here' },
        { name: 'webgpu', problem: 'no adapter' },
      ]);
      const { time, timed } = timer(state, { webgl: 9 });
      const outcomes = await raceBackends(list, shape, time);
      // Started again before it is timed: wasm and webgpu were tried after it.
      expect(state.started).toEqual(['webgl', 'wasm', 'webgpu', 'webgl']);
      expect(timed).toEqual([{ name: 'webgl', budget: WARM_UP_BUDGET_MS }]);
      expect(fastest(outcomes)?.name).toBe('webgl');
      expect(describeOutcomes(outcomes)).toBe(
        'webgl 111 images/s, wasm unavailable (no wasm here), webgpu unavailable (no adapter)' +
          '; webgl in software: never picked while another backend runs',
      );
    });

    it('times a real GPU at the run batch and lets it win; later warm-ups are budgeted from the best step', async () => {
      const { list, state } = candidates([{ name: 'webgl' }, { name: 'wasm' }, { name: 'webgpu' }]);
      // wasm: 32 images at 50 ms an image = 1.6 s a step, so 10 steps = 16 s, under the 20 s cap.
      const { time, timed } = timer(state, { webgl: 400, wasm: 50, webgpu: 2 });
      const outcomes = await raceBackends(list, shape, time);
      expect(timed).toEqual([
        { name: 'webgl', budget: WARM_UP_BUDGET_MS },
        { name: 'wasm', budget: WARM_UP_BUDGET_MS },
        { name: 'webgpu', budget: 16_000 },
      ]);
      expect(fastest(outcomes)?.name).toBe('webgpu');
      // A fast best step never cuts the budget below the floor a GPU's shader compilation needs.
      const fast = candidates([{ name: 'wasm' }, { name: 'webgpu' }]);
      const fastTimer = timer(fast.state, { wasm: 0.1, webgpu: 0.05 });
      await raceBackends(fast.list, shape, fastTimer.time);
      expect(fastTimer.timed[1]).toEqual({ name: 'webgpu', budget: 5_000 });
    });

    it('reports a backend whose timing fails, and races on', async () => {
      const { list, state } = candidates([{ name: 'webgl' }, { name: 'wasm' }]);
      const time = () => (state.current === 'webgl' ? Promise.reject(new Error('shader failed')) : Promise.resolve(3));
      const outcomes = await raceBackends(list, shape, time);
      expect(outcomes[0]).toMatchObject({ name: 'webgl', msPerImage: null, problem: 'shader failed' });
      expect(fastest(outcomes)?.name).toBe('wasm');
    });
  });
});
