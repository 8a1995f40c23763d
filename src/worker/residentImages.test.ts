import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { packImageBytes, setPackedLayout, unpackByte } from '../backends/packedImages';
import { webgpuChunkLimitBytes } from '../backends/webgpuKernels/gatherImages';
import type { ImageSet } from '../core/types';
import { syntheticSet } from '../model/testImages.testutil';
import { makeBatch } from './batches';
import { imagesPerChunk, residentBytes, ResidentImages } from './residentImages';
import { cpuLayout, withCpuGather } from './cpuGather.testutil';

// The GPU programs themselves are checked in Chromium (e2e/webgpuKernels.spec.ts, e2e/webglKernels.spec.ts); here the
// packing, the chunking and the fallback, with a cpu kernel that unpacks as the shaders do (unpackByte), so a batch
// is compared with makeBatch's.
beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('packImageBytes', () => {
  it('packs 4 bytes a word, little-endian, bytes of 128 and above too (negative words), any image size', () => {
    const pixels = Uint8Array.from({ length: 3 * 9 }, (_, i) => (i * 37 + 200) % 256);
    const words = packImageBytes(pixels, 1, 2, 9);
    expect(words.length).toBe(Math.ceil(18 / 4));
    expect(words[0]).toBe(pixels[9] | (pixels[10] << 8) | (pixels[11] << 16) | (pixels[12] << 24));
    expect(Array.from({ length: 18 }, (_, i) => unpackByte(words, i))).toEqual(Array.from(pixels.subarray(9, 27)));
    expect(() => packImageBytes(pixels, 2, 2, 9)).toThrow(/not all in 27 bytes/);
  });

  it('packs 3 bytes a word for WebGL: every word a whole number below 2^24, exact in a float32', () => {
    const pixels = Uint8Array.from({ length: 4 * 7 }, (_, i) => (i * 53 + 255) % 256);
    pixels.fill(255, 0, 7);
    const words = packImageBytes(pixels, 0, 4, 7, 3);
    expect(words.length).toBe(Math.ceil(28 / 3));
    expect(words[0]).toBe(2 ** 24 - 1);
    expect(words[2]).toBe(pixels[6] | (pixels[7] << 8) | (pixels[8] << 16));
    for (const word of words) {
      expect(word).toBeGreaterThanOrEqual(0);
      expect(word).toBeLessThan(2 ** 24);
      expect(Math.fround(word)).toBe(word);
    }
    expect(Array.from({ length: 28 }, (_, i) => unpackByte(words, i, 3))).toEqual(Array.from(pixels));
    // The last word's unused byte stays 0.
    expect(words[9] >> 8).toBe(0);
    expect(() => packImageBytes(pixels, 0, 1, 7, 5)).toThrow(/1 to 4 bytes/);
  });

  it('sizes chunks by the GPU limits, whole words', () => {
    const limits = { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 28 };
    expect(webgpuChunkLimitBytes({ limits })).toBe(2 ** 28);
    expect(webgpuChunkLimitBytes(undefined)).toBe(128 * 2 ** 20);
    // 150 px: 22,500 bytes an image; 5,216 images (117 MB) fit one 128 MiB binding, 4 bytes a word.
    expect(imagesPerChunk(150 * 150, 128 * 2 ** 20, 4)).toBeGreaterThan(5216);
    // 3 bytes a word (WebGL): 156 MB of textures, two chunks of 128 MiB.
    expect(imagesPerChunk(150 * 150, 128 * 2 ** 20, 3)).toBe(4473);
    expect(residentBytes({ count: 5216, size: 150 } as ImageSet, 4473, 3)).toBe(4 * (7500 * 4473 + 7500 * 743));
    expect(imagesPerChunk(9, 21, 4)).toBe(2);
    expect(imagesPerChunk(9, 21, 3)).toBe(1);
    expect(imagesPerChunk(9, 7, 4)).toBe(0);
  });
});

describe('ResidentImages', () => {
  it('is not made where the backend has no gather kernel (the CPU backends): batches stay on the CPU path', async () => {
    const { images, reason } = await ResidentImages.upload(syntheticSet(4, 8, 2, 1));
    expect(images).toBeNull();
    expect(reason).toMatch(/cpu has no exact GatherPackedImages kernel/);
  });

  it.each([4, 3])(
    'gathers the very floats makeBatch makes, %i bytes a word, across chunks, tensor counts flat, freed at the end',
    (bytesPerWord) => withCpuGather(cpuLayout(bytesPerWord), () => gathersAsMakeBatch(bytesPerWord)),
  );

  it('falls back (no images, nothing left) where the GPU reports an upload error, or the budget is too small', () =>
    withCpuGather(cpuLayout(3, 'out of memory'), async () => {
      const set = syntheticSet(5, 8, 2, 1);
      const before = tf.memory().numTensors;
      expect(await ResidentImages.upload(set)).toEqual({ images: null, reason: 'the upload failed (out of memory)' });
      setPackedLayout('cpu', cpuLayout(3));
      // 5 images of 64 bytes, 3 a word: 107 words, 428 bytes.
      expect((await ResidentImages.upload(set, undefined, 427)).reason).toMatch(/428 bytes exceed the 427 left/);
      expect(tf.memory().numTensors).toBe(before);
      const { images } = await ResidentImages.upload(set, undefined, 428);
      expect(images?.bytes).toBe(428);
      images?.dispose();
    }));
});

async function gathersAsMakeBatch(bytesPerWord: number): Promise<void> {
  {
    const set = syntheticSet(11, 7, 3, 5);
    const before = tf.memory().numTensors;
    // 49 bytes an image, chunks of 3 images: 4 chunks, the last of 2.
    const limit = Math.ceil((3 * 49) / bytesPerWord) * 4;
    const { images } = await ResidentImages.upload(set, limit);
    expect(images).not.toBeNull();
    expect(tf.memory().numTensors).toBe(before + 4);
    for (const indices of [[10, 0, 3, 5, 9], [2], [8, 8, 1, 6, 7, 4]]) {
      const ours = images!.batch(indices, 3);
      const theirs = makeBatch(set, indices, 3);
      expect(ours.xs.shape).toEqual(theirs.xs.shape);
      expect(Array.from(ours.xs.dataSync())).toEqual(Array.from(theirs.xs.dataSync()));
      expect(Array.from(ours.ys.dataSync())).toEqual(Array.from(theirs.ys.dataSync()));
      tf.dispose([ours.xs, ours.ys, theirs.xs, theirs.ys]);
      expect(tf.memory().numTensors).toBe(before + 4);
    }
    expect(() => images!.batch([11], 3)).toThrow(/outside this split/);
    images!.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // More than 4 chunks: the CPU path.
    expect((await ResidentImages.upload(set, limit - 4 * 49)).reason).toMatch(/exceed 4 GPU buffers/);
    expect(tf.memory().numTensors).toBe(before);
  }
}
