import { describe, expect, it } from 'vitest';
import { TextReader, Uint8ArrayReader, Uint8ArrayWriter, ZipWriter, type ZipWriterConstructorOptions } from '@zip.js/zip.js';
import { entriesFromDrop, listFiles, listZip, looksLikeZip, mimeTypeOf } from './archive';
import { DatasetError } from './errors';

async function makeZip(
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

const bytes = (n: number, seed = 7) => Uint8Array.from({ length: n }, (_, i) => (i * seed + 3) % 251);
const blobOf = (data: Uint8Array) => new Blob([data as Uint8Array<ArrayBuffer>]);

async function expectDatasetError(promise: Promise<unknown>, pattern: RegExp) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatasetError);
  expect((error as Error).message).toMatch(pattern);
}

describe('listZip', () => {
  it('lists files and folders, and reads each file lazily with its bytes intact', async () => {
    const a = bytes(5000);
    const b = bytes(3000, 13);
    const zip = await makeZip({ 'chest_xray/': null, 'chest_xray/train/NORMAL/a.jpeg': a, 'chest_xray/train/PNEUMONIA/b.png': b });
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
    await expectDatasetError(listZip(new Blob(['hello, this is a plain text file and nothing else'])), /not a zip archive.*chest_xray\/train\/NORMAL/);
    await expectDatasetError(listZip(new Blob([])), /not a zip archive/);
  });

  it('recognises a single image, RAR, 7z and tar.gz', async () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...bytes(200)]);
    await expectDatasetError(listZip(blobOf(jpeg)), /single image/);
    await expectDatasetError(listZip(blobOf(new Uint8Array([0x52, 0x61, 0x72, 0x21, ...bytes(200)]))), /RAR archive.*only \.zip/);
    await expectDatasetError(listZip(blobOf(new Uint8Array([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, ...bytes(200)]))), /7z archive/);
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
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}

describe('looksLikeZip', () => {
  it('tells zips from other files by their first bytes', async () => {
    expect(await looksLikeZip(blobOf(await makeZip({ 'a.txt': 'x' })))).toBe(true);
    expect(await looksLikeZip(blobOf(await makeZip({})))).toBe(true);
    expect(await looksLikeZip(new Blob(['PK']))).toBe(false);
    expect(await looksLikeZip(new Blob(['not a zip']))).toBe(false);
  });
});

describe('listFiles', () => {
  it('uses the relative path of a picked folder, else the name', async () => {
    const inFolder = new File(['abc'], 'a.jpeg', { type: 'image/jpeg' });
    Object.defineProperty(inFolder, 'webkitRelativePath', { value: 'chest_xray/train/NORMAL/a.jpeg' });
    const loose = new File(['defg'], 'b.png');
    const entries = listFiles([inFolder, loose]);
    expect(entries.map((e) => [e.path, e.directory, e.size])).toEqual([
      ['chest_xray/train/NORMAL/a.jpeg', false, 3],
      ['b.png', false, 4],
    ]);
    expect(await entries[0].read()).toBe(inFolder);
  });
});

describe('entriesFromDrop', () => {
  // Minimal stand-ins for the File System Entries API a browser hands to a drop handler.
  function fileEntry(fullPath: string, content: string) {
    return { isFile: true, isDirectory: false, fullPath, file: (ok: (f: File) => void) => ok(new File([content], fullPath.split('/').pop()!)) };
  }
  function dirEntry(fullPath: string, children: object[]) {
    return {
      isFile: false,
      isDirectory: true,
      fullPath,
      createReader() {
        // Hands out children in batches of 2, like Chrome's batches of 100.
        let next = 0;
        return {
          readEntries(ok: (entries: object[]) => void) {
            const batch = children.slice(next, next + 2);
            next += batch.length;
            setTimeout(() => ok(batch), 0);
          },
        };
      },
    };
  }

  it('walks dropped folders recursively, reading every batch', async () => {
    const tree = dirEntry('/chest_xray', [
      dirEntry('/chest_xray/train', [
        dirEntry('/chest_xray/train/NORMAL', [1, 2, 3, 4, 5].map((i) => fileEntry(`/chest_xray/train/NORMAL/${i}.jpeg`, 'x'.repeat(i)))),
      ]),
      fileEntry('/chest_xray/README.txt', 'hi'),
    ]);
    const items = [
      { kind: 'file', webkitGetAsEntry: () => tree },
      { kind: 'string', webkitGetAsEntry: () => null },
    ] as unknown as DataTransferItem[];
    const entries = await entriesFromDrop(items);
    expect(entries.map((e) => [e.path, e.size]).sort()).toEqual([
      ['chest_xray/README.txt', 2],
      ['chest_xray/train/NORMAL/1.jpeg', 1],
      ['chest_xray/train/NORMAL/2.jpeg', 2],
      ['chest_xray/train/NORMAL/3.jpeg', 3],
      ['chest_xray/train/NORMAL/4.jpeg', 4],
      ['chest_xray/train/NORMAL/5.jpeg', 5],
    ]);
    expect(await (await entries[0].read()).text()).toMatch(/^x+$|^hi$/);
  });
});

describe('mimeTypeOf', () => {
  it('maps image extensions', () => {
    expect(mimeTypeOf('a/B.JPG')).toBe('image/jpeg');
    expect(mimeTypeOf('x.webp')).toBe('image/webp');
    expect(mimeTypeOf('x.txt')).toBe('');
  });
});
