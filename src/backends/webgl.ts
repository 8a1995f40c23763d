/**
 * What the training worker needs to know about tfjs' WebGL backend beyond starting it: why it does
 * not start, whether it is drawn in software or computes in 16-bit floats, and its context loss.
 * Runs in the training worker: WebGL draws on an OffscreenCanvas there (no DOM).
 */
import * as tf from '@tensorflow/tfjs';

type Gl = WebGLRenderingContext | WebGL2RenderingContext;

/** The most useful reason we can find for WebGL not starting in this worker. */
export function diagnoseWebgl(): string {
  // Type-checked as worker code (tsconfig.worker.json): no DOM types here, so `document` is looked up, not named.
  const inWorker = !('document' in globalThis);
  if (typeof OffscreenCanvas === 'undefined') {
    return inWorker ? 'it cannot draw with WebGL inside a web worker: no OffscreenCanvas' : 'no WebGL canvas';
  }
  if (inWorker && tf.env().getBool('IS_SAFARI')) {
    return 'TensorFlow.js does not use WebGL inside a web worker in Safari';
  }
  const fast = probeContext(true);
  if (fast) return 'WebGL 2 is available, but TensorFlow.js failed to set it up';
  if (probeContext(false))
    return 'only software WebGL is available: hardware acceleration is off in the browser settings, or the GPU or its driver is blocklisted';
  return 'WebGL 2 is disabled or not supported';
}

/** Whether a WebGL 2 context can be had; the context is released at once (browsers allow few). */
function probeContext(failIfMajorPerformanceCaveat: boolean): boolean {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2', { failIfMajorPerformanceCaveat });
    if (!gl) return false;
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return true;
  } catch {
    return false;
  }
}

/** Whether the webgl backend computes in 32-bit floats; tfjs throws where it cannot tell. */
export function webglRendersFloat32(): boolean {
  return tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE');
}

/** WebGL drawn by the CPU (SwiftShader, llvmpipe…) works, but was 2-3x slower than the CPU backend where measured. */
export function softwareWarning(): string {
  const gl = currentGl();
  if (!gl) return '';
  try {
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    const software = /swiftshader|llvmpipe|softpipe|microsoft basic render|software/i.exec(renderer);
    if (!software) return '';
    return `WebGL is drawn in software here (${software[0]}), not by a GPU (hardware acceleration may be off in the browser settings, or the GPU blocklisted): training will be slow, and the CPU backend may well be faster on this computer.`;
  } catch {
    return '';
  }
}

export function float16Warning(): string {
  try {
    if (webglRendersFloat32()) return '';
  } catch {
    return '';
  }
  return 'This GPU computes only with 16-bit floats in WebGL: training may be less precise; if the loss turns to NaN, choose the CPU backend.';
}

// ---------------------------------------------------------------- context loss

/** The WebGL context of the running webgl backend, if that is the current backend. */
function currentGl(): Gl | null {
  if (tf.getBackend() !== 'webgl') return null;
  const backend = tf.backend() as unknown as { gpgpu?: { gl?: Gl } };
  return backend.gpgpu?.gl ?? null;
}

export { CONTEXT_LOST_MESSAGE } from '../core/gpuLost';

export function isWebglContextLost(): boolean {
  const gl = currentGl();
  return gl !== null && gl.isContextLost();
}

/** Calls `onLost` if the current WebGL context is lost; returns a function that stops listening. */
export function watchWebglContextLoss(onLost: () => void): () => void {
  // The worker's lib has no `canvas` on a WebGL context: it is an OffscreenCanvas here (an HTML canvas on a page).
  const canvas = (currentGl() as { canvas?: OffscreenCanvas } | null)?.canvas;
  if (!canvas || !('addEventListener' in canvas)) return () => {};
  const listener = () => onLost();
  canvas.addEventListener('webglcontextlost', listener);
  return () => canvas.removeEventListener('webglcontextlost', listener);
}

/**
 * After a context loss the webgl backend is dead; a fresh one (new context) replaces it.
 * True when it did so (the new backend has not been checked yet).
 */
export function replaceLostWebgl(): boolean {
  // Read the registry directly: tf.findBackend would start WebGL just to look at it.
  const backend = tf.engine().registry['webgl'] as unknown as { gpgpu?: { gl?: Gl } } | undefined;
  if (!backend?.gpgpu?.gl?.isContextLost()) return false;
  try {
    tf.removeBackend('webgl');
  } catch {
    // Disposing a dead context's textures may throw; the backend is gone either way.
  }
  tf.registerBackend('webgl', () => new tf.MathBackendWebGL(), 2);
  return true;
}
