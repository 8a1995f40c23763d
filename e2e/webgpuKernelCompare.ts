/**
 * The comparison behind every WebGPU kernel check (webgpuKernels.page.ts): a computation run on the cpu backend and
 * on WebGPU, the relative difference of each output, and which of our programs ran for it (`ran`, `dispatched`:
 * filled by the page's hooks on tfjs' program runner and on compute passes).
 */
import * as tf from '@tensorflow/tfjs';
import { relativeDifference } from '../src/backends/gradientCheck';

export interface Difference {
  what: string;
  difference: number;
  /** Our programs (their shader keys, without tfjs' suffix) that ran on WebGPU for it. */
  ran: string[];
}

/** Shader keys of our programs run since the last compare (runFlat and multiOutput.ts prefix them 'xray_'). */
export const ran = new Set<string>();
/** Every dispatch of a pipeline of ours (multiOutput.ts labels them 'xray_<key>'), in order. */
export const dispatched: string[] = [];

/** `compute` on cpu and on webgpu: the relative difference of each named output. */
export async function compare(what: string, compute: () => Record<string, tf.Tensor>): Promise<Difference[]> {
  const results: Record<string, Float32Array>[] = [];
  ran.clear();
  for (const backend of ['cpu', 'webgpu']) {
    await tf.setBackend(backend);
    const outputs = tf.tidy(compute);
    const read: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(outputs)) read[name] = (await t.data()) as Float32Array;
    tf.dispose(Object.values(outputs));
    results.push(read);
  }
  const [cpu, gpu] = results;
  return Object.keys(cpu).map((name) => ({
    what: `${what}: ${name}`,
    difference: relativeDifference(gpu[name], cpu[name]),
    ran: [...ran],
  }));
}
