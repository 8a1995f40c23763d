import { describe, expect, it } from 'vitest';
import { classifyPath, describeSkipReason, extensionOf, pathSegments } from './paths';
import type { SkipReason } from './types';

const image = (split: string, className: string, fileName: string) => ({ kind: 'image', split, className, fileName });
const skip = (reason: SkipReason) => ({ kind: 'skip', reason });

describe('classifyPath', () => {
  it('reads the standard chest_xray layout', () => {
    expect(classifyPath('chest_xray/train/NORMAL/IM-0115-0001.jpeg')).toEqual(
      image('train', 'NORMAL', 'IM-0115-0001.jpeg'),
    );
    expect(classifyPath('chest_xray/test/PNEUMONIA/person1_virus_6.jpeg')).toEqual(
      image('test', 'PNEUMONIA', 'person1_virus_6.jpeg'),
    );
    expect(classifyPath('chest_xray/val/NORMAL/NORMAL2-IM-1427-0001.jpeg')).toEqual(
      image('validation', 'NORMAL', 'NORMAL2-IM-1427-0001.jpeg'),
    );
  });

  it('finds the split folder at any depth, the nearest one winning', () => {
    expect(classifyPath('chest_xray/chest_xray/train/NORMAL/a.jpeg')).toEqual(image('train', 'NORMAL', 'a.jpeg'));
    expect(classifyPath('a/b/c/test/PNEUMONIA/x.png')).toEqual(image('test', 'PNEUMONIA', 'x.png'));
    expect(classifyPath('train/old/test/NORMAL/x.png')).toEqual(image('test', 'NORMAL', 'x.png'));
    // A folder between the split and the class folder does not hide the split.
    expect(classifyPath('test/batch1/NORMAL/x.png')).toEqual(image('test', 'NORMAL', 'x.png'));
  });

  it('reads split folders in any case, val, valid and validation alike', () => {
    expect(classifyPath('TRAIN/cat/1.jpg')).toEqual(image('train', 'cat', '1.jpg'));
    expect(classifyPath('Test/cat/1.jpg')).toEqual(image('test', 'cat', '1.jpg'));
    expect(classifyPath('VAL/cat/1.jpg')).toEqual(image('validation', 'cat', '1.jpg'));
    expect(classifyPath('Validation/cat/1.jpg')).toEqual(image('validation', 'cat', '1.jpg'));
    expect(classifyPath('valid/cat/1.jpg')).toEqual(image('validation', 'cat', '1.jpg'));
  });

  it('keeps the class name exactly as written', () => {
    expect(classifyPath('train/Normal Lungs/1.jpg')).toEqual(image('train', 'Normal Lungs', '1.jpg'));
    expect(classifyPath('train/pneumonía/1.jpg')).toEqual(image('train', 'pneumonía', '1.jpg'));
  });

  it('puts images without a split folder in train', () => {
    expect(classifyPath('NORMAL/a.jpeg')).toEqual(image('train', 'NORMAL', 'a.jpeg'));
    expect(classifyPath('dataset/PNEUMONIA/a.jpeg')).toEqual(image('train', 'PNEUMONIA', 'a.jpeg'));
  });

  it('skips images with no class folder', () => {
    expect(classifyPath('a.jpeg')).toEqual(skip('no-class-folder'));
    expect(classifyPath('chest_xray/train/a.jpeg')).toEqual(skip('no-class-folder'));
    expect(classifyPath('chest_xray/VAL/a.jpeg')).toEqual(skip('no-class-folder'));
    expect(classifyPath('/a.png')).toEqual(skip('no-class-folder'));
  });

  it('accepts every image extension in any case, and nothing else', () => {
    for (const ext of ['jpg', 'JPG', 'jpeg', 'JPEG', 'Png', 'bmp', 'webp', 'gif']) {
      expect(classifyPath(`train/a/x.${ext}`).kind).toBe('image');
    }
    for (const name of ['x.txt', 'x.tif', 'x.jpeg.zip', 'README.md', 'Thumbs.db', 'desktop.ini']) {
      expect(classifyPath(`train/a/${name}`)).toEqual(skip('not-an-image'));
    }
  });

  it('takes DICOM files: .dcm, and names without an extension or ending in digits (the bytes decide later)', () => {
    for (const name of ['x.dcm', 'X.DCM', 'x.dicom', 'IM0001', '1.2.840.113619.2.55.3.604688119']) {
      expect(classifyPath(`train/a/${name}`)).toEqual(image('train', 'a', name));
    }
  });

  it('treats backslashes as separators and strips leading / and ./', () => {
    expect(classifyPath('chest_xray\\train\\NORMAL\\a.jpeg')).toEqual(image('train', 'NORMAL', 'a.jpeg'));
    expect(classifyPath('/chest_xray/test/NORMAL/a.jpeg')).toEqual(image('test', 'NORMAL', 'a.jpeg'));
    expect(classifyPath('./chest_xray/test/NORMAL/a.jpeg')).toEqual(image('test', 'NORMAL', 'a.jpeg'));
    expect(classifyPath('C:\\data\\val\\NORMAL\\a.jpeg')).toEqual(image('validation', 'NORMAL', 'a.jpeg'));
    expect(classifyPath('train//NORMAL/./a.jpeg')).toEqual(image('train', 'NORMAL', 'a.jpeg'));
  });

  it('skips folder entries', () => {
    expect(classifyPath('chest_xray/train/')).toEqual(skip('folder'));
    expect(classifyPath('chest_xray\\train\\')).toEqual(skip('folder'));
    expect(classifyPath('')).toEqual(skip('folder'));
    expect(classifyPath('./')).toEqual(skip('folder'));
  });

  it('skips macOS resource forks and hidden files', () => {
    expect(classifyPath('__MACOSX/chest_xray/train/NORMAL/._a.jpeg')).toEqual(skip('macos-resource'));
    expect(classifyPath('chest_xray/__MACOSX/train/NORMAL/a.jpeg')).toEqual(skip('macos-resource'));
    expect(classifyPath('chest_xray/.DS_Store')).toEqual(skip('hidden-file'));
    expect(classifyPath('chest_xray/train/NORMAL/._a.jpeg')).toEqual(skip('hidden-file'));
    expect(classifyPath('chest_xray/.cache/train/NORMAL/a.jpeg')).toEqual(skip('hidden-file'));
    expect(classifyPath('train/.NORMAL/a.jpeg')).toEqual(skip('hidden-file'));
  });

  it('skips paths that climb out with ..', () => {
    expect(classifyPath('../train/NORMAL/a.jpeg')).toEqual(skip('unsafe-path'));
    expect(classifyPath('chest_xray/../../etc/NORMAL/a.jpeg')).toEqual(skip('unsafe-path'));
    expect(classifyPath('train\\..\\NORMAL\\a.jpeg')).toEqual(skip('unsafe-path'));
    // Two dots inside a name are not a parent segment.
    expect(classifyPath('train/NORMAL/a..b.jpeg')).toEqual(image('train', 'NORMAL', 'a..b.jpeg'));
  });

  it('handles hostile names without crashing: absolute, drive letters, UNC, NUL and control characters', () => {
    // Absolute names are read relative to the archive: the root never becomes a class.
    expect(classifyPath('/etc/x.jpeg')).toEqual(image('train', 'etc', 'x.jpeg'));
    expect(classifyPath('C:\\x.jpeg')).toEqual(skip('no-class-folder'));
    expect(classifyPath('C:/data/cat/x.jpeg')).toEqual(image('train', 'cat', 'x.jpeg'));
    expect(classifyPath('\\\\server\\share\\train\\cat\\x.png')).toEqual(image('train', 'cat', 'x.png'));
    expect(classifyPath('/../etc/cat/x.jpeg')).toEqual(skip('unsafe-path'));
    expect(classifyPath('..')).toEqual(skip('unsafe-path'));
    for (const name of [
      'train/cat/x\u0000.jpeg',
      'train/c\u0000at/x.jpeg',
      'train/cat\n/x.jpeg',
      'train/cat/\u001b[31mx.png',
      'train/cat/x\u007f.png',
    ]) {
      expect(classifyPath(name)).toEqual(skip('unsafe-path'));
    }
    // Undecodable bytes come out of zip.js as U+FFFD: still a readable label.
    expect(classifyPath('train/caf\ufffd/x.png')).toEqual(image('train', 'caf\ufffd', 'x.png'));
  });
});

describe('helpers', () => {
  it('pathSegments drops empty and . segments', () => {
    expect(pathSegments('./a//b/./c')).toEqual(['a', 'b', 'c']);
    expect(pathSegments('D:/x/y')).toEqual(['x', 'y']);
  });

  it('extensionOf ignores a leading dot', () => {
    expect(extensionOf('a.JPEG')).toBe('jpeg');
    expect(extensionOf('.jpeg')).toBe('');
    expect(extensionOf('noext')).toBe('');
  });

  it('describes every reason', () => {
    const reasons: SkipReason[] = [
      'folder',
      'macos-resource',
      'hidden-file',
      'not-an-image',
      'no-class-folder',
      'duplicate',
      'unsafe-path',
      'decode-failed',
      'too-large',
    ];
    for (const reason of reasons) expect(describeSkipReason(reason).length).toBeGreaterThan(5);
  });
});
