/**
 * Starts tfjs' WebGPU backend in the training worker: asks the browser for a GPU adapter first (so a
 * browser without one is passed over at once), loads the package only then (its code is a chunk of
 * its own, which a run that never tries WebGPU does not fetch), and says whether the adapter is a
 * real GPU or a software one.
 */

import { messageOf } from '../core/userError';
import { registerWebgpuImageKernels } from './webgpuKernels/gatherImages';
import { registerWebgpuTrainingKernels } from './webgpuKernels/register';

/** What this app uses of WebGPU (the worker's TypeScript lib has no WebGPU types); webgpuDevice.ts too. */
interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
export interface GpuDevice {
  readonly lost: Promise<unknown>;
}
export interface GpuAdapter {
  readonly info?: GpuAdapterInfo;
  readonly isFallbackAdapter?: boolean;
  readonly features: { has(name: string): boolean };
  readonly limits: Record<string, number>;
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<GpuDevice>;
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<GpuAdapter | null>;
}

/** The browser's high-performance WebGPU adapter; null without WebGPU or when it offers none. */
export async function requestGpuAdapter(): Promise<GpuAdapter | null> {
  const gpu = (globalThis.navigator as { gpu?: Gpu } | undefined)?.gpu;
  return gpu ? gpu.requestAdapter({ powerPreference: 'high-performance' }) : null;
}

/** A browser that answers at all answers within milliseconds; one that hangs must not hold up `auto`. */
const ADAPTER_TIMEOUT_MS = 5_000;

/** The state of one worker's WebGPU backend: its adapter, once found. */
export class WebgpuStarter {
  private adapter: GpuAdapter | null = null;
  private loaded = false;

  constructor(private readonly adapterTimeoutMs = ADAPTER_TIMEOUT_MS) {}

  /**
   * null when WebGPU runs and computes right, else why not in plain words. `startBackend` switches
   * tfjs to a backend and checks it (null when it works, else a short reason).
   */
  async start(startBackend: (name: string) => Promise<string | null>): Promise<string | null> {
    const gpu = (globalThis.navigator as { gpu?: Gpu } | undefined)?.gpu;
    if (!gpu) return 'this browser has no WebGPU; navigator.gpu is missing';
    if (!this.adapter) {
      try {
        this.adapter = await withTimeout(requestGpuAdapter(), this.adapterTimeoutMs);
      } catch (error) {
        return `the browser could not be asked for a WebGPU adapter (${messageOf(error)})`;
      }
      if (!this.adapter)
        return 'the browser offers no WebGPU adapter; there is no supported GPU, or WebGPU is turned off or blocklisted';
    }
    if (!this.loaded) {
      try {
        // Importing the package registers the 'webgpu' backend (and its kernels) with tfjs.
        await import('@tensorflow/tfjs-backend-webgpu');
        // Ours in place of its slowest training kernels (webgpuKernels/register.ts).
        registerWebgpuTrainingKernels();
        // A batch's images gathered from the split's bytes on the GPU (worker/residentImages.ts).
        registerWebgpuImageKernels();
        this.loaded = true;
      } catch (error) {
        return `the WebGPU backend could not be loaded (${messageOf(error)})`;
      }
    }
    return startBackend('webgpu');
  }

  /** WebGPU emulated by the CPU works, but is slow: say so, as for WebGL drawn in software. */
  softwareWarning(): string {
    const info = this.adapter?.info;
    const fallback = info?.isFallbackAdapter ?? this.adapter?.isFallbackAdapter ?? false;
    const software = /swiftshader|llvmpipe|lavapipe|software/i.exec(
      `${info?.architecture ?? ''} ${info?.description ?? ''} ${info?.vendor ?? ''}`,
    );
    if (!fallback && !software) return '';
    return `WebGPU runs in software here (${software ? software[0] : 'a fallback adapter'}), not on a GPU: training will be slow.`;
  }
}

/** Rejects when `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
