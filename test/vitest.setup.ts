/**
 * Vitest setup (vitest.config.ts): Node tests that run tfjs' cpu backend get the cpu kernels the
 * training worker gets, from the one place that registers them (TrainingBackends): the shipped
 * Transform augments only the first image of a batch, and the shipped gradients make a training
 * step at 32 px take seconds. Only in test files that load tfjs (its engine, the global
 * `_tfengine`, exists once it is imported), so the others do not pay for loading it.
 * Tests that compare with the shipped kernels put them back (unregisterFastCpuKernels).
 */
import { beforeAll } from 'vitest';

beforeAll(async () => {
  if (!('_tfengine' in globalThis)) return;
  const { TrainingBackends } = await import('../src/backends/trainingBackends');
  new TrainingBackends();
});
