import { describe, expect, it } from 'vitest';
import type { ArchiveEntry } from './archive';
import { compareKeras, countBySplit, emptyCounts, indexEntries } from './datasetIndex';
import { DatasetError } from './errors';

/** Entries whose read() yields their own path, so a test can see which copy was kept. */
function entries(paths: string[]): ArchiveEntry[] {
  return paths.map((path) => ({
    path,
    directory: path.endsWith('/'),
    size: 1,
    read: () => Promise.resolve(new Blob([path])),
  }));
}

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('indexEntries', () => {
  it('indexes a chest_xray tree, skipping junk by reason', () => {
    const index = indexEntries(
      entries([
        'chest_xray/',
        'chest_xray/train/',
        'chest_xray/train/NORMAL/a.jpeg',
        'chest_xray/train/PNEUMONIA/b.jpeg',
        'chest_xray/train/PNEUMONIA/c.jpeg',
        'chest_xray/val/NORMAL/d.jpeg',
        'chest_xray/test/PNEUMONIA/e.jpeg',
        'chest_xray/.DS_Store',
        '__MACOSX/chest_xray/train/NORMAL/._a.jpeg',
        'chest_xray/README.txt',
        'chest_xray/train/stray.jpeg',
        '../escape/NORMAL/x.jpeg',
      ]),
    );
    expect(index.classNames).toEqual(['NORMAL', 'PNEUMONIA']);
    expect(index.entries.map((e) => [e.path, e.split, e.className])).toEqual([
      ['chest_xray/test/PNEUMONIA/e.jpeg', 'test', 'PNEUMONIA'],
      ['chest_xray/train/NORMAL/a.jpeg', 'train', 'NORMAL'],
      ['chest_xray/train/PNEUMONIA/b.jpeg', 'train', 'PNEUMONIA'],
      ['chest_xray/train/PNEUMONIA/c.jpeg', 'train', 'PNEUMONIA'],
      ['chest_xray/val/NORMAL/d.jpeg', 'validation', 'NORMAL'],
    ]);
    const reasons = Object.fromEntries(index.skipped.map((s) => [s.path, s.reason]));
    expect(reasons).toEqual({
      'chest_xray/': 'folder',
      'chest_xray/train/': 'folder',
      'chest_xray/.DS_Store': 'hidden-file',
      '__MACOSX/chest_xray/train/NORMAL/._a.jpeg': 'macos-resource',
      'chest_xray/README.txt': 'not-an-image',
      'chest_xray/train/stray.jpeg': 'no-class-folder',
      '../escape/NORMAL/x.jpeg': 'unsafe-path',
    });
  });

  it('treats an entry flagged as a directory as a folder, whatever its name', () => {
    const index = indexEntries([
      ...entries(['train/A/1.png', 'train/B/1.png']),
      { path: 'train/A/looks-like.png', directory: true, size: 0, read: () => Promise.reject(new Error('folder')) },
    ]);
    expect(index.skipped).toEqual([{ path: 'train/A/looks-like.png', reason: 'folder' }]);
  });

  it('keeps one copy of a tree stored twice, the shallower one, in any listing order', async () => {
    const paths = [
      'chest_xray/chest_xray/train/NORMAL/a.jpeg',
      'chest_xray/chest_xray/train/PNEUMONIA/b.jpeg',
      'chest_xray/train/NORMAL/a.jpeg',
      'chest_xray/train/PNEUMONIA/b.jpeg',
      'chest_xray/chest_xray/test/NORMAL/a.jpeg',
    ];
    for (const order of [paths, [...paths].reverse()]) {
      const index = indexEntries(entries(order));
      expect(index.entries.map((e) => e.path)).toEqual([
        'chest_xray/chest_xray/test/NORMAL/a.jpeg',
        'chest_xray/train/NORMAL/a.jpeg',
        'chest_xray/train/PNEUMONIA/b.jpeg',
      ]);
      expect(index.skipped).toEqual([
        {
          path: 'chest_xray/chest_xray/train/NORMAL/a.jpeg',
          reason: 'duplicate',
          detail: 'same as chest_xray/train/NORMAL/a.jpeg',
        },
        {
          path: 'chest_xray/chest_xray/train/PNEUMONIA/b.jpeg',
          reason: 'duplicate',
          detail: 'same as chest_xray/train/PNEUMONIA/b.jpeg',
        },
      ]);
      // read() reads the kept copy.
      expect(await (await index.entries[1].read()).text()).toBe('chest_xray/train/NORMAL/a.jpeg');
    }
  });

  it('does not take the same file name in another split or class for a duplicate', () => {
    const index = indexEntries(entries(['train/A/1.png', 'train/B/1.png', 'test/A/1.png', 'val/A/1.png']));
    expect(index.entries).toHaveLength(4);
    expect(index.skipped).toEqual([]);
  });

  it('sorts class names as Keras does (plain string order)', () => {
    const index = indexEntries(
      entries(['train/b/1.png', 'train/B/1.png', 'train/a/1.png', 'train/Z/1.png', 'train/10/1.png', 'train/9/1.png']),
    );
    expect(index.classNames).toEqual(['10', '9', 'B', 'Z', 'a', 'b']);
    expect(['b', 'a', 'B'].sort(compareKeras)).toEqual(['B', 'a', 'b']);
  });

  it('says so when there are no images at all', () => {
    const empty = catchError(() => indexEntries([]));
    expect(empty).toBeInstanceOf(DatasetError);
    expect(empty.message).toMatch(/archive is empty/);
    const junk = catchError(() => indexEntries(entries(['README.txt', 'data/labels.csv', '.DS_Store'])));
    expect(junk).toBeInstanceOf(DatasetError);
    expect(junk.message).toMatch(/No images were found among the 3 files \(2 are not .jpg.*chest_xray\/train\/NORMAL/);
    const loose = catchError(() => indexEntries(entries(['a.jpeg', 'b.jpeg', 'train/c.jpeg'])));
    expect(loose.message).toMatch(/3 images were found, but none inside a class folder/);
  });

  it('says so when there is only one class', () => {
    const error = catchError(() =>
      indexEntries(entries(['chest_xray/train/NORMAL/a.jpeg', 'chest_xray/test/NORMAL/b.jpeg'])),
    );
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toMatch(
      /^Only one class folder \(NORMAL\) was found; a classifier needs at least two, e\.g\. NORMAL and PNEUMONIA/,
    );
  });

  it('refuses a class that has images only in test', () => {
    const error = catchError(() => indexEntries(entries(['train/A/1.png', 'train/B/1.png', 'test/C/1.png'])));
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toMatch(/class C has images only in the test folder/);
    // A class found only in val is fine: it can be folded into train.
    expect(indexEntries(entries(['train/A/1.png', 'val/B/1.png'])).classNames).toEqual(['A', 'B']);
  });
});

describe('indexEntries, hostile and large archives', () => {
  it('skips entries the listing flagged as too large, with their detail, but only images', () => {
    const list = entries(['train/a/1.png', 'train/a/bomb.png', 'train/b/1.png', 'train/b/huge.txt']);
    list[1].skip = { reason: 'too-large', detail: '300 MiB uncompressed, over the 256 MiB limit for one image' };
    list[3].skip = { reason: 'too-large', detail: 'x' };
    const index = indexEntries(list);
    expect(index.entries.map((e) => e.path)).toEqual(['train/a/1.png', 'train/b/1.png']);
    expect(index.skipped).toEqual([
      {
        path: 'train/a/bomb.png',
        reason: 'too-large',
        detail: '300 MiB uncompressed, over the 256 MiB limit for one image',
      },
      { path: 'train/b/huge.txt', reason: 'not-an-image' },
    ]);
  });

  it('labels or skips hostile names, never crashing', () => {
    const index = indexEntries(
      entries([
        'train/a/1.png',
        'train/b/1.png',
        '../b/2.png',
        '/abs/c/../3.png',
        'train/a/\u0000.png',
        'C:\\train\\b\\4.png',
        'train/caf\ufffd/5.png',
      ]),
    );
    expect(index.classNames).toEqual(['a', 'b', 'caf\ufffd']);
    expect(index.entries.map((e) => e.path)).toEqual([
      'C:\\train\\b\\4.png',
      'train/a/1.png',
      'train/b/1.png',
      'train/caf\ufffd/5.png',
    ]);
    expect(index.skipped.map((s) => s.reason)).toEqual(['unsafe-path', 'unsafe-path', 'unsafe-path']);
  });

  it('indexes 20,500 entries', () => {
    const paths = Array.from(
      { length: 20_500 },
      (_, i) => `data/${i % 5 === 0 ? 'test' : 'train'}/c${i % 7}/f${i}.${i % 4 === 0 ? 'png' : 'txt'}`,
    );
    const index = indexEntries(entries(paths));
    expect(index.entries).toHaveLength(5125);
    expect(index.skipped).toHaveLength(20_500 - 5125);
    expect(index.classNames).toHaveLength(7);
  });
});

describe('countBySplit', () => {
  it('counts every split and class, zero where none', () => {
    const index = indexEntries(entries(['train/A/1.png', 'train/A/2.png', 'train/B/1.png', 'test/B/9.png']));
    expect(countBySplit(index)).toEqual({
      train: { A: 2, B: 1 },
      validation: { A: 0, B: 0 },
      test: { A: 0, B: 1 },
    });
  });

  it('emptyCounts has every split', () => {
    expect(emptyCounts(['x'])).toEqual({ train: { x: 0 }, validation: { x: 0 }, test: { x: 0 } });
  });
});
