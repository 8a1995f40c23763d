/**
 * The WebGPU backend's device lost under a run (the browser or driver took the GPU away, or the device was
 * destroyed): noticed from `device.lost`, and replaced by a fresh backend on a new adapter and device, as
 * `replaceLostWebgl` does for a lost WebGL context. Runs in the training worker.
 */
import * as tf from '@tensorflow/tfjs';
import { requestGpuAdapter, withTimeout, type GpuDevice } from './webgpu';

/** Devices whose `lost` promise has settled; a device is never found again once lost. */
const lostDevices = new WeakSet<GpuDevice>();
const tracked = new WeakSet<GpuDevice>();

function deviceOf(backend: unknown): GpuDevice | null {
  const device = (backend as { device?: GpuDevice } | null | undefined)?.device;
  return device && typeof device === 'object' && device.lost instanceof Promise ? device : null;
}

/** The device of the running webgpu backend, if that is the current backend; followed from then on. */
function currentDevice(): GpuDevice | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const device = deviceOf(tf.backend());
  if (device && !tracked.has(device)) {
    tracked.add(device);
    void device.lost.then(() => lostDevices.add(device));
  }
  return device;
}

/** Follows the current WebGPU device from its start, so that its loss is known even when no run watched it. */
export function followWebgpuDevice(): void {
  currentDevice();
}

export function isWebgpuDeviceLost(): boolean {
  const device = currentDevice();
  return device !== null && lostDevices.has(device);
}

/** Calls `onLost` when the current WebGPU device is lost; returns a function that stops listening. */
export function watchWebgpuDeviceLoss(onLost: () => void): () => void {
  const device = currentDevice();
  if (!device) return () => {};
  let watching = true;
  // currentDevice() has marked it lost by then (its callback was registered first).
  void device.lost.then(() => {
    if (watching) onLost();
  });
  return () => {
    watching = false;
  };
}

/**
 * Whether the current WebGPU device is lost, or is told lost within `ms`: a GPU read that failed because the
 * device went may reject before the browser settles `device.lost`.
 */
export async function webgpuDeviceLostWithin(ms: number): Promise<boolean> {
  const device = currentDevice();
  if (!device) return false;
  const lost = await withTimeout(
    device.lost.then(() => true),
    ms,
  ).catch(() => false);
  if (lost) lostDevices.add(device);
  return lost;
}

/**
 * After its device is lost the webgpu backend is dead; a fresh one (new adapter, new device) replaces it.
 * True when it did so (the new backend has not been checked yet).
 */
export function replaceLostWebgpu(): boolean {
  // Read the registry directly: tf.findBackend would start a backend just to look at it.
  const device = deviceOf(tf.engine().registry['webgpu']);
  if (!device || !lostDevices.has(device)) return false;
  try {
    tf.removeBackend('webgpu');
  } catch {
    // Releasing a dead device's buffers may throw; the backend is gone either way.
  }
  tf.registerBackend('webgpu', startWebgpuBackend, 3);
  return true;
}

/** As @tensorflow/tfjs-backend-webgpu registers its backend (dist/base.js): the package is loaded by then. */
async function startWebgpuBackend(): Promise<tf.KernelBackend> {
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const adapter = await requestGpuAdapter();
  if (!adapter) throw new Error('the browser offers no WebGPU adapter any more');
  const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((name) => adapter.features.has(name));
  const limits = [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
  ];
  const requiredLimits = Object.fromEntries(limits.map((name) => [name, adapter.limits[name]]));
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  return new WebGPUBackend(device as never, adapter.info as never);
}
