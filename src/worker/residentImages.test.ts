import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GATHER_PACKED_IMAGES,
  packImageBytes,
  unpackByte,
  type GatherPackedImagesAttrs,
} from '../backends/packedImages';
import { syntheticSet } from '../model/testImages.testutil';
import { makeBatch } from './batches';
import { chunkLimitBytes, imagesPerChunk, ResidentImages } from './residentImages';

// The WebGPU program itself is checked in Chromium (e2e/gpuImages.spec.ts); here the packing, the chunking and the
// fallback, with a cpu kernel that unpacks as the WGSL does (unpackByte), so a batch is compared with makeBatch's.
function gatherOnCpu(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const attrs = args.attrs as unknown as GatherPackedImagesAttrs;
  const read = (info: tf.TensorInfo | undefined) =>
    (args.backend as { readSync(id: unknown): Int32Array }).readSync(info!.dataId);
  const picks = read(args.inputs.picks);
  const chunks = Array.from({ length: attrs.chunks }, (_, i) => read(args.inputs[`chunk${i}`]));
  const area = attrs.size * attrs.size;
  const out = new Float32Array(picks.length * area);
  for (let i = 0; i < out.length; i++) {
    const source = picks[Math.floor(i / area)];
    const chunk = Math.floor(source / attrs.imagesPerChunk);
    out[i] =
      unpackByte(chunks[chunk], (source - chunk * attrs.imagesPerChunk) * area + (i % area)) * Math.fround(attrs.scale);
  }
  const backend = args.backend as {
    makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo;
  };
  return backend.makeTensorInfo([picks.length, attrs.size, attrs.size, 1], 'float32', out);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterAll(() => {
  if (tf.getKernel(GATHER_PACKED_IMAGES, 'cpu')) tf.unregisterKernel(GATHER_PACKED_IMAGES, 'cpu');
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

  it('sizes chunks by the GPU limits, whole words', () => {
    expect(chunkLimitBytes({ limits: { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 28 } })).toBe(2 ** 28);
    expect(chunkLimitBytes(undefined)).toBe(128 * 2 ** 20);
    // 150 px: 22,500 bytes an image; 5,216 images (117 MB) fit one 128 MiB binding.
    expect(imagesPerChunk(150 * 150, 128 * 2 ** 20)).toBeGreaterThan(5216);
    expect(imagesPerChunk(9, 21)).toBe(2);
    expect(imagesPerChunk(9, 7)).toBe(0);
  });
});

describe('ResidentImages', () => {
  it('is not made where the backend has no gather kernel (the CPU backends): batches stay on the CPU path', async () => {
    const { images, reason } = await ResidentImages.upload(syntheticSet(4, 8, 2, 1));
    expect(images).toBeNull();
    expect(reason).toMatch(/cpu has no GatherPackedImages kernel/);
  });

  it('gathers the very floats makeBatch makes, across chunks, with flat tensor counts and one copy freed at the end', async () => {
    tf.registerKernel({
      kernelName: GATHER_PACKED_IMAGES,
      backendName: 'cpu',
      kernelFunc: gatherOnCpu as tf.KernelFunc,
    });
    const set = syntheticSet(11, 7, 3, 5);
    const before = tf.memory().numTensors;
    // 49 bytes an image, chunks of 3 images: 4 chunks, the last of 2.
    const { images } = await ResidentImages.upload(set, 3 * 49 + 3);
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
    expect((await ResidentImages.upload(set, 2 * 49)).reason).toMatch(/exceed 4 GPU buffers/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
