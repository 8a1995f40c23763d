/**
 * An error about the user's dataset (not a bug): its message is a sentence the person can act on,
 * shown as is in the page. Anything else that is thrown is a fault of the app.
 */
export class DatasetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatasetError';
  }
}

/** The layout the app expects, quoted in the messages that tell the user how to fix an archive. */
export const EXPECTED_LAYOUT =
  'Drop a .zip of folders named by class, e.g. chest_xray/train/NORMAL/*.jpeg and chest_xray/train/PNEUMONIA/*.jpeg.';

export { messageOf } from '../core/userError';
