/** loadDataset with damaged and hostile archives, and with too few images for validation: said in words. */
import { describe, expect, it } from 'vitest';
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import { encodeImage } from '../../scripts/syntheticZip';
import type { ArchiveEntry } from './archive';
import { DatasetError } from './errors';
import { buildRawZip } from './rawZip.testutil';
import { loadDataset, type DecodeFn } from './loadDataset';
import { blobOf } from './archiveFixtures.testutil';
import { nodeDecode } from './nodeDecode.testutil';

describe('loadDataset against damaged and hostile archives', () => {
  const grey = (v: number) => new Uint8Array(64).fill(v);
  const good = (name: string, v: number) => ({ name, content: encodeImage(grey(v), 8, 'png') });

  it('skips a zero-byte and a corrupted image as decode-failed, lists them, and loads the rest', async () => {
    const zip = buildRawZip([
      good('train/A/1.png', 10),
      good('train/A/2.png', 20),
      { name: 'train/A/empty.png' },
      { name: 'train/B/corrupt.png', content: encodeImage(grey(99), 8, 'png').slice(0, 30), deflate: true },
      good('train/B/1.png', 40),
      good('train/B/2.png', 50),
    ]);
    const data = await loadDataset(blobOf(zip), { size: 8, decode: nodeDecode });
    expect(data.skipped.map((s) => [s.path, s.reason])).toEqual([
      ['train/A/empty.png', 'decode-failed'],
      ['train/B/corrupt.png', 'decode-failed'],
    ]);
    expect(data.train.count + data.validation.count).toBe(4);
  });

  it('skips zip bombs as too-large: by declared size at listing, by actual size while reading', async () => {
    const zip = buildRawZip([
      good('train/A/1.png', 10),
      good('train/A/2.png', 20),
      good('train/B/1.png', 40),
      good('train/B/2.png', 50),
      { name: 'train/A/declared.png', content: new Uint8Array(5000), declaredSize: 1 << 30 },
      { name: 'train/B/liar.png', content: new Uint8Array(4 << 20).fill(7), deflate: true, declaredSize: 100 },
    ]);
    let decoded = 0;
    const counting: DecodeFn = (blob, size) => (decoded++, nodeDecode(blob, size));
    const data = await loadDataset(blobOf(zip), { size: 8, decode: counting, limits: { maxEntryBytes: 64 << 20 } });
    expect(data.skipped.map((s) => [s.path, s.reason])).toEqual([
      ['train/A/declared.png', 'too-large'],
      ['train/B/liar.png', 'too-large'],
    ]);
    expect(data.skipped[0].detail).toBe('1 GiB uncompressed, over the 64 MiB limit for one image');
    expect(data.skipped[1].detail).toMatch(/more than the 100 bytes its header declares/);
    expect(decoded).toBe(4);
    expect(data.train.count + data.validation.count).toBe(4);
  });

  it('says an empty zip is empty, and refuses encrypted and oversized archives', async () => {
    const empty = await loadDataset(blobOf(buildRawZip([])), { size: 8, decode: nodeDecode }).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(DatasetError);
    expect((empty as Error).message).toMatch(/^This archive is empty\. Drop a \.zip of folders named by class/);

    const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false, password: 'secret' });
    await writer.add('train/A/1.png', new Uint8ArrayReader(encodeImage(grey(1), 8, 'png')));
    await writer.add('train/B/1.png', new Uint8ArrayReader(encodeImage(grey(2), 8, 'png')));
    const encrypted = await loadDataset(blobOf(await writer.close()), { size: 8, decode: nodeDecode }).catch(
      (e: unknown) => e,
    );
    expect(encrypted).toBeInstanceOf(DatasetError);
    expect((encrypted as Error).message).toMatch(/password-protected/);

    const huge = buildRawZip([{ name: 'train/A/1.png', content: new Uint8Array(10), declaredSize: 0xffffffff }]);
    const bomb = await loadDataset(blobOf(huge), {
      size: 8,
      decode: nodeDecode,
      limits: { maxTotalBytes: 1 << 30 },
    }).catch((e: unknown) => e);
    expect(bomb).toBeInstanceOf(DatasetError);
    expect((bomb as Error).message).toMatch(/would unpack to 4 GiB, more than the 1 GiB/);
  });
});

describe('loadDataset without enough images for validation', () => {
  it('says so before decoding anything', async () => {
    let calls = 0;
    const entries: ArchiveEntry[] = ['train/A/1.png', 'train/B/1.png'].map((path) => ({
      path,
      directory: false,
      size: 1,
      read: async () => new Blob([path]),
    }));
    const decode: DecodeFn = async () => {
      calls++;
      return { pixels: new Uint8Array(64), sourceWidth: 8, sourceHeight: 8 };
    };
    await expect(loadDataset(entries, { size: 8, decode })).rejects.toThrow(
      /too few images to set any aside for validation/,
    );
    expect(calls).toBe(0);
  });
});
