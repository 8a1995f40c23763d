/** Loose files: picked folders, dropped folders walked recursively, and the caps on a selection. */
import { describe, expect, it } from 'vitest';
import type { ArchiveEntry } from './archive';
import { capLooseFiles, entriesFromDrop, listFiles } from './looseFiles';
import { indexEntries } from './datasetIndex';

describe('capLooseFiles', () => {
  const file = (path: string, size: number): ArchiveEntry => ({
    path,
    directory: false,
    size,
    read: async () => new Blob([]),
  });

  it('skips a loose file over the per-image cap as too large, and keeps the rest', () => {
    const entries = capLooseFiles([file('train/a/big.jpg', 2000), file('train/a/ok.jpg', 10)], { maxEntryBytes: 1000 });
    expect(entries[0].skip).toEqual({ reason: 'too-large', detail: '2 KiB, over the 1000 bytes limit for one image' });
    expect(entries[1].skip).toBeUndefined();
    expect(indexEntries([...entries, file('train/b/ok.jpg', 10)]).skipped).toEqual([
      { path: 'train/a/big.jpg', reason: 'too-large', detail: '2 KiB, over the 1000 bytes limit for one image' },
    ]);
  });

  it('refuses a selection over the total cap', () => {
    expect(() => capLooseFiles([file('a.jpg', 600), file('b.jpg', 600)], { maxTotalBytes: 1000 })).toThrow(
      /These files add up to 1.2 KiB, more than the 1000 bytes that can be read here/,
    );
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
    return {
      isFile: true,
      isDirectory: false,
      fullPath,
      file: (ok: (f: File) => void) => ok(new File([content], fullPath.split('/').pop()!)),
    };
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
        dirEntry(
          '/chest_xray/train/NORMAL',
          [1, 2, 3, 4, 5].map((i) => fileEntry(`/chest_xray/train/NORMAL/${i}.jpeg`, 'x'.repeat(i))),
        ),
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
