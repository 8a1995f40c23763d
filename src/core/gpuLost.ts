/**
 * What is said when a GPU backend loses its GPU (a WebGL context, a WebGPU device): the browser or the
 * driver took it away mid-run. Pure: the worker writes these messages and the page recognises them.
 */

/** The GPU backends whose GPU can be lost under a run, and what their browser API calls the lost thing. */
const LOST: Record<string, string> = {
  webgl: 'the WebGL context was lost',
  webgpu: 'the WebGPU device was lost',
};

function lostMessage(what: string): string {
  return (
    `The GPU stopped working for this page (${what}): the browser or graphics driver reset it, ` +
    'most often because GPU memory ran out or another tab or app needed the GPU. The model being trained is gone. ' +
    'Press Train to start again; a smaller batch size or image size needs less GPU memory, and the CPU backend always works (slowly).'
  );
}

export const CONTEXT_LOST_MESSAGE = lostMessage(LOST.webgl);
export const DEVICE_LOST_MESSAGE = lostMessage(LOST.webgpu);

/** Whether `backend` computes on a GPU that the browser can take away (WebGL, WebGPU). */
export function usesGpu(backend: string | null): boolean {
  return backend !== null && backend in LOST;
}

/** The lost-GPU message naming the API `backend` uses (WebGL's unless it is WebGPU). */
export function gpuLostMessage(backend: string | null): string {
  return backend === 'webgpu' ? DEVICE_LOST_MESSAGE : CONTEXT_LOST_MESSAGE;
}

/** Which lost-GPU message a raw error of tfjs or the browser is, if any ('' when none). */
export function lostGpuIn(raw: string): string {
  if (/context lost|CONTEXT_LOST/i.test(raw)) return CONTEXT_LOST_MESSAGE;
  if (/device (is |was |has been )?(lost|destroyed)/i.test(raw)) return DEVICE_LOST_MESSAGE;
  return '';
}

/** Whether a run's failure message says its GPU was lost (so the run may go on elsewhere). */
export function isGpuLostMessage(message: string): boolean {
  return Object.values(LOST).some((what) => message.includes(what));
}
