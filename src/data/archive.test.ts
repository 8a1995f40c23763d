/** listZip: listing archives, hostile names, zip bombs, many entries and the memory an entry keeps; looksLikeZip. */
import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter, type ZipWriterConstructorOptions } from '@zip.js/zip.js';
import { listZip, looksLikeZip } from './archive';
import { EntryTooLargeError } from './zipErrors';
import { readEntryRef } from './zipEntryBytes';
import { indexEntries } from './datasetIndex';
import { buildRawZip } from './rawZip.testutil';
import { formatBytes } from '../core/formatUnits';
import { blobOf, bytes, expectDatasetError, indexOf, makeZip } from './archiveFixtures.testutil';

describe('listZip', () => {
  it('lists files and folders, and reads each file lazily with its bytes intact', async () => {
    const a = bytes(5000);
    const b = bytes(3000, 13);
    const zip = await makeZip({
      'chest_xray/': null,
      'chest_xray/train/NORMAL/a.jpeg': a,
      'chest_xray/train/PNEUMONIA/b.png': b,
    });
    const entries = await listZip(blobOf(zip));
    expect(entries.map((e) => [e.path, e.directory, e.size])).toEqual([
      ['chest_xray/', true, 0],
      ['chest_xray/train/NORMAL/a.jpeg', false, 5000],
      ['chest_xray/train/PNEUMONIA/b.png', false, 3000],
    ]);
    const blobA = await entries[1].read();
    expect(blobA.type).toBe('image/jpeg');
    expect(new Uint8Array(await blobA.arrayBuffer())).toEqual(a);
    const blobB = await entries[2].read();
    expect(blobB.type).toBe('image/png');
    expect(new Uint8Array(await blobB.arrayBuffer())).toEqual(b);
    await expect(entries[0].read()).rejects.toThrow(/folder/);
  });

  it('reads deflated and stored entries, and Zip64 archives', async () => {
    const data = bytes(20000);
    for (const options of [{ level: 0 }, { level: 9 }, { zip64: true }] as ZipWriterConstructorOptions[]) {
      const entries = await listZip(blobOf(await makeZip({ 'train/a/x.jpg': data }, options)));
      expect(new Uint8Array(await (await entries[0].read()).arrayBuffer())).toEqual(data);
    }
  });

  it('lists an empty zip as no entries', async () => {
    expect(await listZip(blobOf(await makeZip({})))).toEqual([]);
  });

  it('lists unsafe names instead of refusing the whole archive', async () => {
    const entries = await listZip(blobOf(await makeZip({ '../evil.jpeg': bytes(10), 'train/a/ok.jpeg': bytes(10) })));
    expect(entries.map((e) => e.path)).toEqual(['../evil.jpeg', 'train/a/ok.jpeg']);
  });

  it('says a file that is not a zip is not a zip', async () => {
    await expectDatasetError(
      listZip(new Blob(['hello, this is a plain text file and nothing else'])),
      /not a zip archive.*chest_xray\/train\/NORMAL/,
    );
    await expectDatasetError(listZip(new Blob([])), /not a zip archive/);
  });

  it('recognises a single image, RAR, 7z and tar.gz', async () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...bytes(200)]);
    await expectDatasetError(listZip(blobOf(jpeg)), /single image/);
    await expectDatasetError(
      listZip(blobOf(new Uint8Array([0x52, 0x61, 0x72, 0x21, ...bytes(200)]))),
      /RAR archive.*only \.zip/,
    );
    await expectDatasetError(
      listZip(blobOf(new Uint8Array([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, ...bytes(200)]))),
      /7z archive/,
    );
    await expectDatasetError(listZip(blobOf(new Uint8Array([0x1f, 0x8b, 8, 0, ...bytes(200)]))), /gzip/);
  });

  it('says a truncated zip is incomplete', async () => {
    const zip = await makeZip({ 'train/a/x.jpg': bytes(4000), 'train/b/y.jpg': bytes(4000) }, { level: 0 });
    await expectDatasetError(listZip(blobOf(zip.slice(0, Math.floor(zip.length / 2)))), /incomplete or damaged/);
    await expectDatasetError(listZip(blobOf(zip.slice(0, zip.length - 10))), /incomplete or damaged/);
  });

  it('refuses a password-protected zip', async () => {
    const zip = await makeZip({ 'train/a/x.jpg': bytes(100) }, { password: 'secret', zipCrypto: true });
    await expectDatasetError(listZip(blobOf(zip)), /password-protected/);
  });

  it('reports a damaged entry when it is read, not when listed', async () => {
    const data = bytes(4000);
    const zip = await makeZip({ 'train/a/x.jpg': data }, { level: 0 });
    // Flip a byte of the stored data: the listing is fine, the CRC check on read is not.
    const offset = indexOf(zip, data.subarray(0, 16));
    const damaged = zip.slice();
    damaged[offset + 100] ^= 0xff;
    const entries = await listZip(blobOf(damaged));
    await expect(entries[0].read()).rejects.toThrow(/Could not read this file from the zip: its data is damaged/);
    // The decode workers' own way in checks the same checksum.
    await expect(readEntryRef(entries[0].zip!)).rejects.toThrow(
      /Could not read this file from the zip: its data is damaged/,
    );
  });
});

describe('listZip against zip bombs', () => {
  const MiB = 1024 ** 2;

  it('flags a real 300 MiB entry of zeros (declared size over the cap, absurd ratio) without inflating it', async () => {
    // Streamed in 1 MiB chunks of zeros: the test holds the ~300 KiB zip, never the 300 MiB.
    const chunk = new Uint8Array(MiB);
    let left = 300;
    const zeros = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (left-- > 0) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false });
    await writer.add('train/a/bomb.png', zeros, { level: 9 });
    await writer.add('train/a/ok.png', new Uint8ArrayReader(bytes(100)));
    const zip = await writer.close();
    expect(zip.length).toBeLessThan(2 * MiB);
    const entries = await listZip(blobOf(zip));
    expect(entries[0].size).toBe(300 * MiB);
    expect(entries[0].skip).toEqual({
      reason: 'too-large',
      detail: '300 MiB uncompressed, over the 256 MiB limit for one image',
    });
    expect(entries[1].skip).toBeUndefined();
    // Under a higher size cap, the compression ratio still gives it away.
    const [ratio] = await listZip(blobOf(zip), { maxEntryBytes: 1024 * MiB });
    expect(ratio.skip?.reason).toBe('too-large');
    expect(ratio.skip?.detail).toMatch(/^compressed \d+:1 .*over the 1000:1 limit: likely a zip bomb$/);
  });

  it('takes the caps as options', async () => {
    const zip = buildRawZip([
      { name: 'train/a/big.png', content: bytes(5000) },
      { name: 'train/a/small.png', content: bytes(100) },
      { name: 'train/a/zeros.bmp', content: new Uint8Array(2 * MiB), deflate: true },
    ]);
    const entries = await listZip(blobOf(zip), { maxEntryBytes: 4096, maxRatio: 100_000 });
    expect(entries.map((e) => e.skip?.reason ?? null)).toEqual(['too-large', null, 'too-large']);
    expect(entries[0].skip?.detail).toBe('4.9 KiB uncompressed, over the 4 KiB limit for one image');
    const relaxed = await listZip(blobOf(zip), { maxEntryBytes: 4 * MiB, maxRatio: 100_000 });
    expect(relaxed.map((e) => e.skip ?? null)).toEqual([null, null, null]);
  });

  it('stops reading an entry that inflates to more than it declares', async () => {
    const zip = buildRawZip([
      { name: 'train/a/liar.png', content: new Uint8Array(8 * MiB).fill(1), deflate: true, declaredSize: 1000 },
      { name: 'train/a/honest.png', content: bytes(3000), deflate: true },
    ]);
    const [liar, honest] = await listZip(blobOf(zip));
    expect(liar.skip).toBeUndefined();
    const error = await liar.read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EntryTooLargeError);
    expect((error as Error).message).toMatch(/more than the 1000 bytes its header declares/);
    expect(new Uint8Array(await (await honest.read()).arrayBuffer())).toEqual(bytes(3000));
  });

  it('stops reading an entry that inflates past the cap', async () => {
    const zip = buildRawZip([
      { name: 'train/a/x.png', content: new Uint8Array(3 * MiB).fill(2), deflate: true, declaredSize: 3 * MiB },
    ]);
    const [entry] = await listZip(blobOf(zip), { maxEntryBytes: 4 * MiB, maxRatio: 100_000 });
    expect((await entry.read()).size).toBe(3 * MiB);
    // With the cap lowered only at read time the declared size passes the listing... but not the read.
    const [capped] = await listZip(blobOf(zip), { maxEntryBytes: 2 * MiB, maxRatio: 100_000 });
    expect(capped.skip?.reason).toBe('too-large');
    await expect(capped.read()).rejects.toThrow(EntryTooLargeError);
  });

  it('refuses an archive whose total uncompressed size is over the cap', async () => {
    const zip = buildRawZip([
      { name: 'train/a/1.png', content: bytes(10), declaredSize: 4000 * MiB },
      { name: 'train/b/1.png', content: bytes(10), declaredSize: 4000 * MiB },
    ]);
    await expectDatasetError(
      listZip(blobOf(zip), { maxTotalBytes: 6 * 1024 * MiB }),
      /would unpack to 7\.8 GiB, more than the 6 GiB.*zip bomb/,
    );
    await expectDatasetError(
      listZip(blobOf(buildRawZip([{ name: 'a/b/c.png', content: bytes(3000) }])), { maxTotalBytes: 1000 }),
      /would unpack to 2\.9 KiB, more than the 1000 bytes/,
    );
  });

  it('formats sizes', () => {
    expect([
      formatBytes(0),
      formatBytes(1023),
      formatBytes(1024),
      formatBytes(1536),
      formatBytes(256 * MiB),
      formatBytes(64 * 1024 ** 3),
    ]).toEqual(['0 bytes', '1023 bytes', '1 KiB', '1.5 KiB', '256 MiB', '64 GiB']);
  });
});

describe('listZip with hostile names', () => {
  it('lists names that are not UTF-8, or hold NUL, ../ and absolute paths, without crashing', async () => {
    const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
    const zip = buildRawZip([
      // CP437 (no UTF-8 flag): 0x82 is é, 0x81 ü.
      { name: Uint8Array.from([...ascii('train/caf'), 0x82, ...ascii('/x.png')]), content: bytes(10), utf8Flag: false },
      // Flagged UTF-8 but not valid UTF-8.
      {
        name: Uint8Array.from([...ascii('train/b'), 0xff, 0xfe, ...ascii('/y.png')]),
        content: bytes(10),
        utf8Flag: true,
      },
      { name: Uint8Array.from([...ascii('train/c/z'), 0x00, ...ascii('.png')]), content: bytes(10), utf8Flag: false },
      { name: '../../evil.png', content: bytes(10) },
      { name: '/etc/passwd.png', content: bytes(10) },
      { name: 'C:\\evil\\x.png', content: bytes(10) },
      { name: '', content: bytes(10) },
    ]);
    const entries = await listZip(blobOf(zip));
    const paths = entries.map((e) => e.path);
    expect(paths[0]).toBe('train/café/x.png');
    expect(paths[1]).toBe('train/b\ufffd\ufffd/y.png');
    expect(paths[2]).toBe('train/c/z\u0000.png');
    expect(paths.slice(3)).toEqual(['../../evil.png', '/etc/passwd.png', 'C:\\evil\\x.png', '']);
    expect(new Uint8Array(await (await entries[0].read()).arrayBuffer())).toEqual(bytes(10));
  });
});

describe('listZip with many entries', () => {
  it('lists and indexes 20,500 entries', async () => {
    const many = Array.from({ length: 20_500 }, (_, i) => ({
      name: `data/train/c${i % 3}/f${i}.${i % 10 === 0 ? 'png' : 'txt'}`,
      content: i % 2 ? bytes(1) : undefined,
    }));
    const zip = buildRawZip(many);
    const entries = await listZip(blobOf(zip));
    expect(entries).toHaveLength(20_500);
    expect(entries[20_499].path).toBe('data/train/c0/f20499.txt');
    const index = indexEntries(entries);
    expect(index.entries).toHaveLength(2050);
    expect(index.classNames).toEqual(['c0', 'c1', 'c2']);
    expect(index.skipped).toHaveLength(20_500 - 2050);
  });
});

describe('looksLikeZip', () => {
  it('tells zips from other files by their first bytes', async () => {
    expect(await looksLikeZip(blobOf(await makeZip({ 'a.txt': 'x' })))).toBe(true);
    expect(await looksLikeZip(blobOf(await makeZip({})))).toBe(true);
    expect(await looksLikeZip(new Blob(['PK']))).toBe(false);
    expect(await looksLikeZip(new Blob(['not a zip']))).toBe(false);
  });
});

describe('listZip memory', () => {
  it("keeps a few hundred bytes an entry, not zip.js' entry objects", async () => {
    // gc() for this test only: the retained heap is what is left once garbage is collected.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const count = 20_000;
    const zip = buildRawZip(
      Array.from({ length: count }, (_, i) => ({
        name: `chest_xray/train/NORMAL/IM-${i}-0001.jpeg`,
        content: bytes(1),
      })),
    );
    const blob = blobOf(zip);
    gc();
    const before = process.memoryUsage().heapUsed;
    const entries = await listZip(blob);
    gc();
    const perEntry = (process.memoryUsage().heapUsed - before) / entries.length;
    expect(entries).toHaveLength(count);
    // zip.js' entries, kept, cost 5-8 KiB each; a name, sizes and a location, a few hundred bytes.
    expect(perEntry).toBeLessThan(1024);
  });
});
