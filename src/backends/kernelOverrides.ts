/**
 * The one registry of the kernels this app puts in place of those a tfjs backend ships with (the
 * cpu kernels of cpuKernels.ts, the wasm kernels of wasmKernels.ts). It remembers the shipped
 * kernel the first time one is replaced, so that a replacement can hand the cases it does not
 * cover to the original (callOriginal), and the original can be put back (restoreKernels).
 *
 * Its state is one map for the whole JS realm, as tfjs' own kernel registry is.
 */
import * as tf from '@tensorflow/tfjs';

export type KernelFunc = tf.KernelFunc;

/** What tfjs hands a kernel function (its backend typed loosely: each backend's kernels cast it). */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** A kernel of ours and the name of the kernel it stands for. */
export interface KernelOverride {
  readonly kernelName: string;
  readonly kernelFunc: KernelFunc;
}

export interface OverrideOptions {
  /**
   * What to do where the backend has no such kernel: 'add' ours anyway (a kernel the backend
   * lacks, e.g. wasm's Conv2DBackpropFilter) or 'skip' it (the backend is not in this bundle).
   * Default: 'add'.
   */
  ifMissing?: 'add' | 'skip';
}

/** The shipped kernel of each overridden `${backend}/${kernel}`, or null where the backend had none. */
const originals = new Map<string, tf.KernelConfig | null>();

const keyOf = (backendName: string, kernelName: string) => `${backendName}/${kernelName}`;

/**
 * Registers `overrides` for `backendName` in place of the kernels registered now, remembering
 * those the first time. Idempotent: a kernel already in place stays. The original's setupFunc and
 * disposeFunc go with the replacement (wasm binds its functions there; the fallback needs them).
 * Register after the backend's package has been imported: its import registers its kernels.
 */
export function overrideKernels(
  backendName: string,
  overrides: readonly KernelOverride[],
  options: OverrideOptions = {},
): void {
  for (const { kernelName, kernelFunc } of overrides) {
    const current = tf.getKernel(kernelName, backendName);
    if (current?.kernelFunc === kernelFunc) continue;
    const key = keyOf(backendName, kernelName);
    if (!originals.has(key)) {
      if (current === undefined && options.ifMissing === 'skip') continue;
      originals.set(key, current ?? null);
    }
    const original = originals.get(key);
    if (current !== undefined) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc,
      setupFunc: original?.setupFunc,
      disposeFunc: original?.disposeFunc,
    });
  }
}

/** Puts back the shipped kernels (removes ours where the backend had none) and forgets them. */
export function restoreKernels(backendName: string, kernelNames: readonly string[]): void {
  for (const kernelName of kernelNames) {
    const key = keyOf(backendName, kernelName);
    if (!originals.has(key)) continue;
    const original = originals.get(key);
    if (tf.getKernel(kernelName, backendName) !== undefined) tf.unregisterKernel(kernelName, backendName);
    if (original) tf.registerKernel(original);
    originals.delete(key);
  }
}

/** The kernel `backendName` shipped with, while one of ours stands in for it (null: it had none). */
export function originalKernel(backendName: string, kernelName: string): tf.KernelConfig | null | undefined {
  return originals.get(keyOf(backendName, kernelName));
}

/** Runs the shipped kernel, for the cases a replacement leaves to it; it must return one tensor. */
export function callOriginal(backendName: string, kernelName: string, args: unknown): tf.TensorInfo {
  const original = originalKernel(backendName, kernelName);
  if (!original) throw new Error(`No shipped '${kernelName}' kernel of the ${backendName} backend to fall back to.`);
  const out = original.kernelFunc(args as Parameters<KernelFunc>[0]);
  if (Array.isArray(out)) throw new Error(`Kernel '${kernelName}' returned several tensors.`);
  return out;
}

/** Whether every one of `overrides` is the kernel registered now. */
export function areOverriding(backendName: string, overrides: readonly KernelOverride[]): boolean {
  return overrides.every(
    ({ kernelName, kernelFunc }) => tf.getKernel(kernelName, backendName)?.kernelFunc === kernelFunc,
  );
}
