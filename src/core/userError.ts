/**
 * An error whose message is written for the person using the app (what is wrong, what to do).
 * The worker passes such messages on unchanged; anything else gets context added.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** The message of anything thrown, for errors that quote a cause. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
