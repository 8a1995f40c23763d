/** Zips written by zip.js for the archive tests, made-up bytes, and a check that a promise fails with a DatasetError. */
import { expect } from 'vitest';
import {
  TextReader,
  Uint8ArrayReader,
  Uint8ArrayWriter,
  ZipWriter,
  type ZipWriterConstructorOptions,
} from '@zip.js/zip.js';
import { DatasetError } from './errors';

export async function makeZip(
  files: Record<string, Uint8Array | string | null>,
  options: ZipWriterConstructorOptions & { password?: string; zipCrypto?: boolean } = {},
): Promise<Uint8Array> {
  const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false, ...options });
  for (const [path, content] of Object.entries(files)) {
    if (content === null) await writer.add(path, undefined, { directory: true });
    else if (typeof content === 'string') await writer.add(path, new TextReader(content));
    else await writer.add(path, new Uint8ArrayReader(content));
  }
  return writer.close();
}

export const bytes = (n: number, seed = 7) => Uint8Array.from({ length: n }, (_, i) => (i * seed + 3) % 251);
export const blobOf = (data: Uint8Array) => new Blob([data as Uint8Array<ArrayBuffer>]);

export async function expectDatasetError(promise: Promise<unknown>, pattern: RegExp) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatasetError);
  expect((error as Error).message).toMatch(pattern);
}

export function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}
