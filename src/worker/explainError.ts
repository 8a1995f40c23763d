/**
 * Turns what TensorFlow.js throws into a message a person can act on. The raw message is kept
 * at the end, for a bug report.
 */
import { UserError } from '../core/userError';
import { gpuLostMessage, lostGpuIn, usesGpu } from '../core/gpuLost';

export { UserError };

export function explainError(
  error: unknown,
  context: { action: string; backend: string | null; contextLost: boolean },
): string {
  if (error instanceof UserError) return error.message;
  const raw = error instanceof Error ? error.message : String(error);
  if (context.contextLost) return gpuLostMessage(context.backend);
  const lost = lostGpuIn(raw);
  if (lost) return lost;
  if (
    /out of memory|failed to allocate|Requested texture size .* greater than|Array buffer allocation failed|Invalid typed array length/i.test(
      raw,
    ) ||
    /\bOOM\b/.test(raw)
  ) {
    const where = usesGpu(context.backend) ? 'GPU' : 'browser';
    return `The ${where} ran out of memory while ${context.action}. Choose a smaller batch size or image size and try again. (${raw})`;
  }
  return `Something went wrong while ${context.action}: ${raw}`;
}
