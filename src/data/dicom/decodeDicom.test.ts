import { describe, expect, it } from 'vitest';
import { decodeDicom, hashPatientId } from './decodeDicom';
import { canWriteJpeg, writeDicom, type DicomSpec } from './dicomFiles.testutil';
import { windowed } from './pixels';

/** A 4 x 4 ramp of stored values. */
const ramp = (from: number, step: number, n = 16) => Array.from({ length: n }, (_, i) => from + i * step);

async function greyOf(spec: DicomSpec, size = spec.width) {
  return decodeDicom(await writeDicom(spec), size);
}

describe('decodeDicom', () => {
  it('applies rescale, the first window and MONOCHROME1 inversion to 12-bit data', async () => {
    const values = ramp(0, 256); // 0..3840, 12 bits
    const { pixels, tags } = await greyOf({
      width: 4,
      height: 4,
      values,
      bitsStored: 12,
      photometric: 'MONOCHROME1',
      slope: 2,
      intercept: -1000,
      windowCenter: 2000,
      windowWidth: 4000,
      modality: 'CR',
      viewPosition: 'PA',
    });
    const expected = values.map(
      (v) => 255 - Math.round(Math.min(255, Math.max(0, windowed(v * 2 - 1000, 2000, 4000, 'LINEAR')))),
    );
    expect([...pixels]).toEqual(expected);
    // Inverted: the smallest stored value is the brightest.
    expect(pixels[0]).toBeGreaterThan(pixels[15]);
    expect(tags).toEqual({
      modality: 'CR',
      viewPosition: 'PA',
      photometric: 'MONOCHROME1',
      bitsStored: 12,
      width: 4,
      height: 4,
    });
  });

  it('reads signed 16-bit values without a window over their own range', async () => {
    const values = ramp(-32768, 4369); // -32768 .. 32767
    const { pixels } = await greyOf({ width: 4, height: 4, values, signed: true });
    expect(pixels[0]).toBe(0);
    expect(pixels[15]).toBe(255);
    for (let i = 1; i < 16; i++) expect(pixels[i]).toBeGreaterThan(pixels[i - 1]);
  });

  it('sign-extends 12 bits stored of 16, ignoring the bits above', async () => {
    const values = [-2048, -1, 0, 2047];
    const { pixels } = await greyOf({ width: 2, height: 2, values, bitsStored: 12, signed: true });
    expect([...pixels]).toEqual([0, Math.round((2047 / 4095) * 255), Math.round((2048 / 4095) * 255), 255]);
  });

  it('decodes every supported encoding to the same pixels', async () => {
    const values = Array.from({ length: 48 * 40 }, (_, i) => (i * 37) % 4096); // 48 x 40, 12 bits
    const base = { width: 48, height: 40, values, bitsStored: 12, windowCenter: 2000, windowWidth: 3000 } as const;
    const reference = (await greyOf({ ...base, encoding: 'explicit' })).pixels;
    for (const encoding of ['implicit', 'deflated', 'rle', 'jpeg-ls', 'jpeg-2000'] as const) {
      const { pixels } = await greyOf({ ...base, encoding });
      expect([...pixels], encoding).toEqual([...reference]);
    }
  });

  it.skipIf(!canWriteJpeg)('decodes 8-bit JPEG baseline (lossy: close to the source)', async () => {
    const values = Array.from({ length: 256 }, (_, i) => (i % 16) * 16);
    const spec = { width: 16, height: 16, values, bitsAllocated: 8, windowCenter: 127.5, windowWidth: 256 } as const;
    const { pixels } = await greyOf({ ...spec, encoding: 'jpeg-baseline' });
    const reference = (await greyOf(spec)).pixels;
    for (let i = 0; i < 256; i++) expect(Math.abs(pixels[i] - reference[i])).toBeLessThan(12);
  });

  it('reads a file without preamble, implicit and explicit', async () => {
    const values = ramp(0, 1000);
    const reference = (await greyOf({ width: 4, height: 4, values })).pixels;
    for (const encoding of ['implicit', 'explicit'] as const) {
      const { pixels } = await greyOf({ width: 4, height: 4, values, bare: true, encoding });
      expect([...pixels], encoding).toEqual([...reference]);
    }
  });

  it('takes the first frame of a multi-frame file, native and compressed', async () => {
    const first = ramp(0, 10);
    const second = ramp(4000, -10);
    for (const encoding of ['explicit', 'rle', 'jpeg-ls'] as const) {
      const { pixels } = await greyOf({
        width: 4,
        height: 4,
        values: [...first, ...second],
        frames: 2,
        bitsStored: 12,
        encoding,
      });
      expect(pixels[0], encoding).toBe(0);
      expect(pixels[15], encoding).toBe(255);
    }
  });

  it('squashes to the asked size by area', async () => {
    const values = Array.from({ length: 16 }, (_, i) => (i >> 2 < 2 ? 0 : 255)); // top half black, bottom white
    const { pixels, width, height } = await greyOf(
      { width: 4, height: 4, values, bitsAllocated: 8, windowCenter: 127.5, windowWidth: 256 },
      2,
    );
    expect([width, height]).toEqual([4, 4]);
    expect([...pixels]).toEqual([0, 0, 255, 255]);
  });

  it('hashes PatientID and never returns it in clear', async () => {
    const { patient } = await greyOf({ width: 2, height: 2, values: [0, 1, 2, 3], patientId: 'JOHN^DOE-1234' });
    expect(patient).toBe(await hashPatientId('JOHN^DOE-1234'));
    expect(patient).toMatch(/^patient-[0-9a-f]{16}$/);
    expect(patient).not.toContain('1234');
    expect((await greyOf({ width: 2, height: 2, values: [0, 1, 2, 3] })).patient).toBeNull();
  });

  it('keeps markup in tags as text', async () => {
    const { tags } = await greyOf({
      width: 2,
      height: 2,
      values: [0, 1, 2, 3],
      modality: '<img src=x>',
      viewPosition: '"><script>',
    });
    expect(tags.modality).toBe('<img src=x>');
    expect(tags.viewPosition).toBe('"><script>');
  });
});
