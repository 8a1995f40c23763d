import { describe, expect, it } from 'vitest';
import { decodeDicom } from './decodeDicom';
import { decompressWithDcmtk, hasDcmtk, writeDicom, type DicomSpec } from './dicomFiles.testutil';
import { readJpegFrameHeader } from './jpegFrame';
import { parseDicomImage } from './parse';

const WIDTH = 48;
const HEIGHT = 40;
/** A smooth 12-bit field with edges: JPEG's lossy steps change it, so a wrong decoder shows. */
const values12 = Array.from({ length: WIDTH * HEIGHT }, (_, i) => {
  const x = i % WIDTH;
  const y = Math.floor(i / WIDTH);
  return Math.round(2048 + 1800 * Math.sin(x / 7) * Math.cos(y / 9)) + (x > 30 ? 200 : 0);
});
const base: DicomSpec = {
  width: WIDTH,
  height: HEIGHT,
  values: values12,
  bitsStored: 12,
  windowCenter: 2048,
  windowWidth: 4096,
};

async function grey(file: Uint8Array) {
  return (await decodeDicom(file, WIDTH)).pixels;
}

describe('JPEG lossless (processes 14 and 14 SV1)', () => {
  for (const encoding of ['jpeg-lossless', 'jpeg-lossless-any'] as const) {
    it(`${encoding}: 12-bit, signed 16-bit and 8-bit images equal the uncompressed file`, async () => {
      const specs: DicomSpec[] = [
        base,
        { ...base, values: values12.map((v) => v * 16 - 32768), bitsStored: 16, signed: true, windowCenter: 0 },
        { ...base, values: values12.map((v) => v >> 4), bitsAllocated: 8, bitsStored: 8, windowCenter: 128 },
      ];
      for (const spec of specs) {
        const file = await writeDicom({ ...spec, encoding });
        expect((await parseDicomImage(file)).transferSyntax.codec).toBe('jpeg-lossless');
        expect([...(await grey(file))]).toEqual([...(await grey(await writeDicom(spec)))]);
      }
    });
  }
});

describe.skipIf(!hasDcmtk)('JPEG extended with 12-bit samples (dcmcjpeg +ee)', () => {
  it('is a 12-bit SOF1 stream, decoded to the samples DCMTK decodes', async () => {
    const file = await writeDicom({ ...base, encoding: 'jpeg-extended' });
    const image = await parseDicomImage(file);
    expect(image.transferSyntax.name).toBe('JPEG extended');
    expect(readJpegFrameHeader(image.frame)).toMatchObject({ process: 1, precision: 12, width: 48, height: 40 });
    const reference = decompressWithDcmtk(file);
    expect([...(await grey(file))]).toEqual([...(await grey(reference))]);
    // Lossy, yet close to the source: a wrong decoder (8-bit, shifted) is far off.
    const source = await grey(await writeDicom(base));
    const decoded = await grey(file);
    let worst = 0;
    for (let i = 0; i < source.length; i++) worst = Math.max(worst, Math.abs(source[i] - decoded[i]));
    expect(worst).toBeLessThanOrEqual(4);
  });

  it('keeps MONOCHROME1, rescale and window, and takes the first of several frames', async () => {
    const spec: DicomSpec = {
      ...base,
      values: [...values12, ...values12.map((v) => 4095 - v)],
      frames: 2,
      photometric: 'MONOCHROME1',
      slope: 2,
      intercept: -1024,
      windowCenter: 3000,
      windowWidth: 5000,
    };
    const file = await writeDicom({ ...spec, encoding: 'jpeg-extended' });
    expect([...(await grey(file))]).toEqual([...(await grey(decompressWithDcmtk(file)))]);
  });

  it('decodes 8-bit extended through the 8-bit codec', async () => {
    const spec: DicomSpec = { ...base, values: values12.map((v) => v >> 4), bitsAllocated: 8, bitsStored: 8 };
    const file = await writeDicom({ ...spec, encoding: 'jpeg-extended' });
    expect(readJpegFrameHeader((await parseDicomImage(file)).frame)?.precision).toBe(8);
    expect([...(await grey(file))]).toEqual([...(await grey(decompressWithDcmtk(file)))]);
  });

  it('refuses a stream whose size is not the header’s, and damaged streams, in words; then decodes again', async () => {
    const file = await writeDicom({ ...base, encoding: 'jpeg-extended' });
    const image = await parseDicomImage(file);
    const sof = findSof(file, image.frame);
    // Width 48 -> 4096 inside the stream: the decoder must never see it.
    const wider = file.slice();
    wider[sof + 7] = 0x10;
    wider[sof + 8] = 0x00;
    await expect(decodeDicom(wider, 16)).rejects.toThrow(
      /JPEG image is 4096 x 40 with 1 components; the header says 48 x 40 with 1/,
    );
    // Forty damaged streams: more errors than the library survives without a fresh instance.
    for (let k = 0; k < 40; k++) {
      const damaged = file.slice();
      for (let i = sof + 20; i < damaged.length - 8; i += 7) damaged[i] = (i * 31 + k) & 0xff;
      await decodeDicom(damaged, 16).catch((error: Error) => expect(error.message).toMatch(/^DICOM: /));
    }
    expect([...(await grey(file))]).toEqual([...(await grey(decompressWithDcmtk(file)))]);
  });
});

/** Where the stream's SOF marker lies in the file. */
function findSof(file: Uint8Array, frame: Uint8Array): number {
  const start = Buffer.from(file).indexOf(Buffer.from(frame.subarray(0, 64)));
  for (let i = start; i < file.length - 1; i++) if (file[i] === 0xff && file[i + 1] === 0xc1) return i;
  throw new Error('no SOF1');
}
