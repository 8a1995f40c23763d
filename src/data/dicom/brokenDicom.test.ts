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

  it('a colour image that cannot be turned into grey (colour.test.ts has those that can)', async () => {
    const file = await writeDicom({
      ...SMALL,
      bitsAllocated: 8,
      bitsStored: 8,
      samplesPerPixel: 3,
      photometric: 'HSV',
      values: new Array(192).fill(9),
    });
    expect(await reasonOf(file)).toBe(
      'DICOM: HSV image with 3 samples a pixel cannot be turned into grey here (grey, palette, RGB and YBR can)',
    );
  });

  it('a colour RLE frame with too few segments, and a JPEG lossless stream that lies about its size', async () => {
    const rgb = {
      ...SMALL,
      bitsAllocated: 8 as const,
      bitsStored: 8,
      samplesPerPixel: 3,
      values: new Array(192).fill(9),
    };
    const rle = await writeDicom({ ...rgb, photometric: 'RGB', encoding: 'rle' });
    // The RLE header's segment count (3) is the first word of the fragment: make it 1.
    const at = Buffer.from(rle).indexOf(Buffer.from([3, 0, 0, 0, 64, 0, 0, 0]));
    rle[at] = 1;
    expect(await reasonOf(rle)).toBe('DICOM: the RLE frame has 1 segments, an image of 3 samples of 1 bytes needs 3');
    const lossless = await writeDicom({ ...SMALL, values: new Array(64).fill(9), encoding: 'jpeg-lossless' });
    const sof = Buffer.from(lossless).indexOf(Buffer.from([0xff, 0xc3]));
    lossless[sof + 7] = 0xff; // width 8 -> 65288: the decoder would allocate for it
    expect(await reasonOf(lossless)).toMatch(
      /^DICOM: the JPEG lossless image is 65288 x 8 with 1 components; the header says 8 x 8 with 1$/,
    );
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
