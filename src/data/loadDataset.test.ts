import { describe, expect, it } from 'vitest';
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import { buildSyntheticZip, encodeImage, type SyntheticZipOptions } from '../../scripts/syntheticZip';
import type { ArchiveEntry } from './archive';
import { DatasetError } from './errors';
import { loadDataset, type DecodeFn } from './loadDataset';
import type { LoadProgress } from './types';
import { blobOf } from './archiveFixtures.testutil';
import { nodeDecode } from './nodeDecode.testutil';

async function synthetic(options: Partial<SyntheticZipOptions> = {}) {
  return buildSyntheticZip({
    seed: 2,
    perClass: { train: 15, val: 3, test: 4 },
    imageSize: 16,
    formats: { train: 'png', val: 'png', test: 'png' },
    ...options,
  });
}

function imageAt(set: { pixels: Uint8Array; size: number }, i: number): Uint8Array {
  const area = set.size * set.size;
  return set.pixels.subarray(i * area, (i + 1) * area);
}

describe('loadDataset', () => {
  it('loads a zip end to end: splits, exact pixels, labels, samples, counts and skips', async () => {
    const { zip, images } = await synthetic({ junk: true, duplicateTree: true });
    const data = await loadDataset(blobOf(zip), { size: 16, decode: nodeDecode });
    const pixelsOf = new Map(images.map((i) => [i.path, i]));

    expect(data.classNames).toEqual(['NORMAL', 'PNEUMONIA']);
    expect(data.size).toBe(16);
    expect(data.counts).toEqual({
      train: { NORMAL: 15, PNEUMONIA: 15 },
      validation: { NORMAL: 3, PNEUMONIA: 3 },
      test: { NORMAL: 4, PNEUMONIA: 4 },
    });
    // val has 3 a class (< 10): folded into train, 10% of each class (18 → 2) held out.
    expect(data.validationPlan.source).toBe('held-out');
    expect(data.validationPlan.description).toMatch(
      /^Validation: 10% of train held out \(4 images\), stratified, seed 1 \(the val folder/,
    );
    expect(data.train.count).toBe(32);
    expect(data.validation.count).toBe(4);
    expect(data.train.pixels).toHaveLength(32 * 256);
    expect([...data.validation.labels].sort()).toEqual([0, 0, 1, 1]);
    // Validation images in validationPaths order (held out of train and val), each with its exact pixels and label.
    expect(data.validationPaths).toHaveLength(4);
    data.validationPaths.forEach((path, i) => {
      const image = pixelsOf.get(path)!;
      expect(['train', 'val']).toContain(image.split);
      expect(imageAt(data.validation, i)).toEqual(image.pixels);
      expect(data.classNames[data.validation.labels[i]]).toBe(image.className);
    });

    // Test images in testPaths order, each with its exact pixels and label.
    expect(data.test?.count).toBe(8);
    expect(data.testPaths).toHaveLength(8);
    data.testPaths.forEach((path, i) => {
      const image = pixelsOf.get(path)!;
      expect(image.split).toBe('test');
      expect(imageAt(data.test!, i)).toEqual(image.pixels);
      expect(data.classNames[data.test!.labels[i]]).toBe(image.className);
    });

    // Samples: 24 balanced copies of train images.
    expect(data.samples).toHaveLength(24);
    expect(data.samples.filter((s) => s.label === 'NORMAL')).toHaveLength(12);
    for (const sample of data.samples) {
      expect(sample.pixels).toEqual(pixelsOf.get(sample.path)!.pixels);
      expect(sample.label).toBe(pixelsOf.get(sample.path)!.className);
    }

    const reasons = new Set(data.skipped.map((s) => s.reason));
    expect(reasons).toEqual(new Set(['folder', 'duplicate', 'macos-resource', 'hidden-file', 'not-an-image']));
    expect(data.skipped.filter((s) => s.reason === 'duplicate')).toHaveLength(44);
  });

  it('uses the val folder when it has 10 images a class, and has no test set without a test folder', async () => {
    const { zip } = await synthetic({ perClass: { train: 12, val: 10, test: 0 } });
    const data = await loadDataset(blobOf(zip), { size: 16, decode: nodeDecode });
    expect(data.validationPlan.source).toBe('folder');
    expect(data.train.count).toBe(24);
    expect(data.validation.count).toBe(20);
    expect(data.validationPaths.every((path) => path.includes('/val/'))).toBe(true);
    expect(data.test).toBeNull();
    expect(data.testPaths).toEqual([]);
  });

  it('holds out the validation share it is given', async () => {
    const { zip } = await synthetic();
    // 18 a class once val is folded in: 30% is 5 a class.
    const data = await loadDataset(blobOf(zip), { size: 16, decode: nodeDecode, validationFraction: 0.3 });
    expect(data.validationPlan.description).toMatch(/^Validation: 30% of train held out \(10 images\)/);
    expect(data.validation.count).toBe(10);
    expect(data.train.count).toBe(26);
    await expect(loadDataset(blobOf(zip), { size: 16, decode: nodeDecode, validationFraction: 0.9 })).rejects.toThrow(
      /at most 0.5/,
    );
  });

  it('is deterministic for a seed', async () => {
    const { zip } = await synthetic();
    const a = await loadDataset(blobOf(zip), { size: 16, decode: nodeDecode, seed: 4 });
    const b = await loadDataset(blobOf(zip), { size: 16, decode: nodeDecode, seed: 4, concurrency: 1 });
    const c = await loadDataset(blobOf(zip), { size: 16, decode: nodeDecode, seed: 5 });
    expect(b.validation.pixels).toEqual(a.validation.pixels);
    expect(b.samples.map((s) => s.path)).toEqual(a.samples.map((s) => s.path));
    expect(c.validation.pixels).not.toEqual(a.validation.pixels);
  });

  it('skips images that fail to decode, and compacts the splits around them', async () => {
    const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false });
    const grey = (v: number) => new Uint8Array(64).fill(v);
    const files: [string, Uint8Array][] = [
      ['train/A/1.png', encodeImage(grey(10), 8, 'png')],
      ['train/A/2.png', new TextEncoder().encode('not really a png')],
      ['train/A/3.png', encodeImage(grey(30), 8, 'png')],
      ['train/B/1.png', encodeImage(grey(40), 8, 'png')],
      ['train/B/2.png', encodeImage(grey(50), 8, 'png')],
      ['test/A/1.jpeg', new Uint8Array([1, 2, 3])],
      ['test/B/1.png', encodeImage(grey(70), 8, 'png')],
    ];
    for (const [path, bytes] of files) await writer.add(path, new Uint8ArrayReader(bytes));
    const data = await loadDataset(blobOf(await writer.close()), { size: 8, decode: nodeDecode });
    const failed = data.skipped.filter((s) => s.reason === 'decode-failed');
    expect(failed.map((s) => [s.path, s.detail])).toEqual([
      ['test/A/1.jpeg', 'The image could not be decoded.'],
      ['train/A/2.png', 'The image could not be decoded.'],
    ]);
    const all = [...Array(data.train.count).keys()].map((i) => [imageAt(data.train, i)[0], data.train.labels[i]]);
    const validation = [...Array(data.validation.count).keys()].map((i) => [
      imageAt(data.validation, i)[0],
      data.validation.labels[i],
    ]);
    expect([...all, ...validation].sort((a, b) => a[0] - b[0])).toEqual([
      [10, 0],
      [30, 0],
      [40, 1],
      [50, 1],
    ]);
    expect(data.train.pixels).toHaveLength(data.train.count * 64);
    expect(data.test?.count).toBe(1);
    expect(data.testPaths).toEqual(['test/B/1.png']);
    expect(imageAt(data.test!, 0)[0]).toBe(70);
    expect([...data.test!.labels]).toEqual([1]);
    // The summary counts what was decoded and used, not what was listed.
    expect(data.counts).toEqual({ train: { A: 2, B: 2 }, validation: { A: 0, B: 0 }, test: { A: 0, B: 1 } });
    expect(data.health.images).toBe(5);
  });

  it('says so when no training image decodes', async () => {
    const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false });
    for (const path of ['train/A/1.png', 'train/A/2.png', 'train/B/1.png'])
      await writer.add(path, new Uint8ArrayReader(new Uint8Array([0, 1])));
    const error = await loadDataset(blobOf(await writer.close()), { size: 8, decode: nodeDecode }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toMatch(
      /^None of the training images could be decoded\. The first, train\/A\/1\.png, failed with: The image could not be decoded\./,
    );
  });

  it('keeps a bounded number of images in flight, reading each just before decoding it', async () => {
    const { zip } = await synthetic({ perClass: { train: 30, val: 0, test: 5 } });
    let reading = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const decode: DecodeFn = async (blob, size) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      reading++;
      return nodeDecode(blob, size);
    };
    const data = await loadDataset(blobOf(zip), { size: 16, decode, concurrency: 3 });
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(reading).toBe(70);
    expect(data.train.count + data.validation.count + data.test!.count).toBe(70);
  });

  it('reports progress: listing, throttled decoding, done', async () => {
    const { zip } = await synthetic({ perClass: { train: 40, val: 0, test: 0 } });
    const events: LoadProgress[] = [];
    await loadDataset(blobOf(zip), { size: 16, decode: nodeDecode, onProgress: (p) => events.push({ ...p }) });
    expect(events[0]).toMatchObject({ phase: 'listing', done: 0, total: 0 });
    const decoding = events.findIndex((e) => e.phase === 'decoding');
    // Listing counts the zip's entries (80 images and their folders) up to the whole table of contents.
    const listing = events.slice(0, decoding);
    expect(listing.every((e) => e.phase === 'listing' && e.done <= e.total)).toBe(true);
    expect(events[decoding]).toMatchObject({ phase: 'decoding', done: 0, total: 80, bytesRead: 0 });
    expect(events.at(-2)).toMatchObject({ phase: 'decoding', done: 80, total: 80 });
    expect(events.at(-2)!.bytesRead).toBeGreaterThan(80 * 60);
    expect(events.at(-1)).toMatchObject({ phase: 'done', done: 80, total: 80 });
    for (const e of events) expect(e.elapsedMs).toBeGreaterThanOrEqual(0);
    // Throttled: far fewer events than images (decoding 80 tiny PNGs takes well under 100 ms a few times over).
    expect(events.length).toBeLessThan(40);
    const done = events.filter((e) => e.phase === 'decoding').map((e) => e.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
  });

  it('stops when aborted, with the signal reason', async () => {
    const { zip } = await synthetic();
    const abort = new AbortController();
    let calls = 0;
    const decode: DecodeFn = async (blob, size) => {
      if (++calls === 5) abort.abort(new Error('user cancelled'));
      return nodeDecode(blob, size);
    };
    await expect(loadDataset(blobOf(zip), { size: 16, decode, signal: abort.signal, concurrency: 2 })).rejects.toThrow(
      'user cancelled',
    );
    expect(calls).toBeLessThan(10);
  });

  it('ends the load on a DatasetError from the decoder (a crashed worker), not image by image', async () => {
    const { zip } = await synthetic();
    let calls = 0;
    const decode: DecodeFn = async () => {
      calls++;
      throw new DatasetError('The image decoder stopped. Reload the page and try again.');
    };
    await expect(loadDataset(blobOf(zip), { size: 16, decode, concurrency: 4 })).rejects.toThrow(/decoder stopped/);
    expect(calls).toBeLessThanOrEqual(4);
  });

  it('reads loose files and dropped entries as well as a zip', async () => {
    const { images } = await synthetic({ perClass: { train: 3, val: 0, test: 1 } });
    const files = images.map((image) => {
      const file = new File([encodeImage(image.pixels, 16, 'png')], image.path.split('/').pop()!);
      Object.defineProperty(file, 'webkitRelativePath', { value: image.path });
      return file;
    });
    const fromFiles = await loadDataset(files, { size: 16, decode: nodeDecode });
    expect(fromFiles.counts.train).toEqual({ NORMAL: 3, PNEUMONIA: 3 });
    expect(fromFiles.testPaths).toEqual([
      'chest_xray/test/NORMAL/normal-001.png',
      'chest_xray/test/PNEUMONIA/pneumonia-001.png',
    ]);

    const entries: ArchiveEntry[] = files.map((file) => ({
      path: file.webkitRelativePath,
      directory: false,
      size: file.size,
      read: async () => file,
    }));
    const fromEntries = await loadDataset(entries.reverse(), { size: 16, decode: nodeDecode });
    expect(fromEntries.train.pixels).toEqual(fromFiles.train.pixels);
    expect(fromEntries.test?.pixels).toEqual(fromFiles.test?.pixels);
  });

  it('reads a single dropped file as a zip, by name or by its bytes', async () => {
    const { zip } = await synthetic({ perClass: { train: 3, val: 0, test: 1 } });
    const named = await loadDataset([new File([zip], 'chest_xray.zip')], { size: 16, decode: nodeDecode });
    expect(named.train.count + named.validation.count).toBe(6);
    const unnamed = await loadDataset([new File([zip], 'download')], { size: 16, decode: nodeDecode });
    expect(unnamed.train.pixels).toEqual(named.train.pixels);
  });

  it('passes dataset errors on: not a zip, one class', async () => {
    await expect(
      loadDataset(new Blob(['this is not a zip archive']), { size: 16, decode: nodeDecode }),
    ).rejects.toThrow(/not a zip archive/);
    const { images } = await synthetic({ perClass: { train: 2, val: 0, test: 0 } });
    const normalOnly = images
      .filter((i) => i.className === 'NORMAL')
      .map((i) => ({
        path: i.path,
        directory: false,
        size: 1,
        read: async () => blobOf(encodeImage(i.pixels, 16, 'png')),
      }));
    await expect(loadDataset(normalOnly, { size: 16, decode: nodeDecode })).rejects.toThrow(
      /^Only one class folder \(NORMAL\)/,
    );
    await expect(loadDataset(normalOnly, { size: 0, decode: nodeDecode })).rejects.toThrow(RangeError);
  });
});
