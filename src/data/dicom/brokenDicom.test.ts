/**
 * Hostile and unusable DICOM files: each is refused with a reason in words, quickly (a test's timeout is the
 * proof that nothing hangs).
 */
import { describe, expect, it } from 'vitest';
import { decodeDicom } from './decodeDicom';
import { writeDicom } from './dicomFiles.testutil';

const SMALL = { width: 8, height: 8, values: Array.from({ length: 64 }, (_, i) => i * 50), bitsStored: 12 } as const;

/** Offset of the first occurrence of `tag` (group, element little endian) at or after `from`. */
function tagOffset(bytes: Uint8Array, group: number, element: number, from = 132): number {
  for (let i = from; i < bytes.length - 4; i++) {
    if (
      bytes[i] === (group & 0xff) &&
      bytes[i + 1] === group >> 8 &&
      bytes[i + 2] === (element & 0xff) &&
      bytes[i + 3] === element >> 8
    )
      return i;
  }
  throw new Error(`tag ${group.toString(16)},${element.toString(16)} not found`);
}

async function reasonOf(bytes: Uint8Array): Promise<string> {
  const error = await decodeDicom(bytes, 4).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return (error as Error).message;
}

describe('decodeDicom refuses', { timeout: 5000 }, () => {
  it('a file without pixel data', async () => {
    expect(await reasonOf(await writeDicom({ ...SMALL, noPixels: true }))).toBe('DICOM: no pixel data');
  });

  it('an unsupported transfer syntax, named', async () => {
    const file = await writeDicom({ ...SMALL, encoding: 'rle', transferSyntax: '1.2.840.10008.1.2.4.100' });
    expect(await reasonOf(file)).toBe('DICOM: transfer syntax 1.2.840.10008.1.2.4.100 (MPEG2) is not supported');
  });

  it('a file that ends with its meta information (found by npm run fuzz: dicom-parser threw a bare string)', async () => {
    const file = await writeDicom(SMALL);
    // (0002,0000) File Meta Information Group Length, UL, right after the marker: the meta group's bytes after it.
    expect(tagOffset(file, 0x0002, 0x0000)).toBe(132);
    const metaEnd = 132 + 12 + new DataView(file.buffer, file.byteOffset).getUint32(140, true);
    const reason = await reasonOf(file.subarray(0, metaEnd));
    expect(reason).toBe('DICOM: the file ends after its meta information: it holds no data set');
  });

  it('a colour image', async () => {
    const file = await writeDicom({
      ...SMALL,
      bitsAllocated: 8,
      bitsStored: 8,
      samplesPerPixel: 3,
      photometric: 'RGB',
      values: new Array(192).fill(9),
    });
    expect(await reasonOf(file)).toMatch(/^DICOM: colour image \(RGB, 3 samples a pixel\)/);
  });

  it('truncated pixel data', async () => {
    const file = await writeDicom(SMALL);
    expect(await reasonOf(file.subarray(0, file.length - 40))).toMatch(
      /^DICOM: the pixel data is truncated: it declares 128 bytes, the file holds 88/,
    );
  });

  it('pixel data shorter than a frame', async () => {
    const file = await writeDicom({ ...SMALL, values: SMALL.values.slice(0, 32) });
    expect(await reasonOf(file)).toBe('DICOM: the pixel data is truncated: 64 bytes, a frame needs 128');
  });

  it('a pixel data length that lies', async () => {
    const file = await writeDicom(SMALL);
    // Explicit VR OW: tag, 'OW', 2 reserved bytes, then a 32-bit length.
    const at = tagOffset(file, 0x7fe0, 0x0010) + 8;
    new DataView(file.buffer, file.byteOffset).setUint32(at, 1_000_000, true);
    expect(await reasonOf(file)).toMatch(/^DICOM: the pixel data is truncated: it declares 1000000 bytes/);
  });

  it('a pixel data length of 2^32 - 1 (undefined) on uncompressed data', async () => {
    const file = await writeDicom(SMALL);
    new DataView(file.buffer, file.byteOffset).setUint32(tagOffset(file, 0x7fe0, 0x0010) + 8, 0xffffffff, true);
    expect(await reasonOf(file)).toMatch(/^DICOM: /);
  });

  it('a string length of 2^32 - 2 (implicit VR), without reading 4 GB of it', async () => {
    const file = await writeDicom({ ...SMALL, encoding: 'implicit', patientId: 'P1' });
    new DataView(file.buffer, file.byteOffset).setUint32(tagOffset(file, 0x0010, 0x0020) + 4, 0xfffffffe, true);
    expect(await reasonOf(file)).toMatch(/^DICOM: /);
  });

  it('rows and columns of a huge image', async () => {
    const file = await writeDicom(SMALL);
    const view = new DataView(file.buffer, file.byteOffset);
    view.setUint16(tagOffset(file, 0x0028, 0x0010) + 8, 65535, true);
    view.setUint16(tagOffset(file, 0x0028, 0x0011) + 8, 65535, true);
    expect(await reasonOf(file)).toBe('DICOM: the image is 65535 x 65535 pixels, too large to decode here');
  });

  it('a damaged deflated body, and bytes that are no data set', async () => {
    const file = await writeDicom({ ...SMALL, encoding: 'deflated' });
    file.fill(0xff, file.length - 60);
    expect(await reasonOf(file)).toMatch(/^DICOM: /);
    expect(await reasonOf(new Uint8Array(300).fill(7))).toBe('DICOM: the file does not start with a DICOM data set');
  });

  it('truncated compressed pixel data', async () => {
    const file = await writeDicom({ ...SMALL, encoding: 'jpeg-ls' });
    expect(await reasonOf(file.subarray(0, file.length - 30))).toMatch(/^DICOM: /);
  });
});
