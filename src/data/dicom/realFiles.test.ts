/**
 * Real-world DICOM files, from pydicom's test files (Debian's python3-pydicom; CI installs it): a CT in JPEG extended
 * with 12-bit samples, and one RGB picture written by DCMTK, GDCM and others in a dozen colour encodings. Skipped
 * where pydicom is not installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeDicom } from './decodeDicom';
import { decompressWithDcmtk, hasDcmtk } from './dicomFiles.testutil';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const found = spawnSync(PYTHON, ['-c', 'import os, pydicom; print(os.path.dirname(pydicom.__file__))'], {
  encoding: 'utf8',
});
const dir = found.status === 0 ? join(found.stdout.trim(), 'data', 'test_files') : '';
const hasFiles = dir !== '' && existsSync(join(dir, 'JPEG-lossy.dcm'));
const file = (name: string) => new Uint8Array(readFileSync(join(dir, name)));

describe.skipIf(!hasFiles)('real DICOM files (pydicom’s test files)', () => {
  it.skipIf(!hasDcmtk)('a CT in 12-bit JPEG extended: DCMTK’s samples, and the same as its other copy', async () => {
    const lossy = await decodeDicom(file('JPEG-lossy.dcm'), 128);
    expect(lossy.tags).toMatchObject({ bitsStored: 12, width: 256, height: 1024 });
    expect([...lossy.pixels]).toEqual([
      ...(await decodeDicom(decompressWithDcmtk(file('JPEG-lossy.dcm')), 128)).pixels,
    ]);
    expect([...(await decodeDicom(file('JPGExtended.dcm'), 128)).pixels]).toEqual([...lossy.pixels]);
  });

  it('one RGB picture in a dozen colour encodings comes out as the same grey', async () => {
    const reference = (await decodeDicom(file('SC_rgb_rle.dcm'), 100)).pixels;
    const lossless = ['SC_rgb_rle_2frame.dcm', 'SC_rgb_rle_16bit.dcm', 'SC_rgb_gdcm_KY.dcm'];
    // JPEG baseline (RGB kept, or YCbCr), and YBR_FULL_422's shared chroma.
    const lossy = [
      'SC_rgb_dcmtk_+eb+cr.dcm',
      'SC_ybr_full_422_uncompressed.dcm',
      'SC_rgb_dcmtk_+eb+cy+n1.dcm',
      'SC_rgb_dcmtk_+eb+cy+np.dcm',
      'SC_rgb_dcmtk_+eb+cy+s2.dcm',
      'SC_rgb_jpeg_dcmtk.dcm',
      'SC_rgb_jpeg_gdcm.dcm',
      'SC_rgb_jpeg_lossy_gdcm.dcm',
    ];
    for (const name of [...lossless, ...lossy]) {
      const { pixels, tags } = await decodeDicom(file(name), 100);
      let worst = 0;
      let sum = 0;
      for (let i = 0; i < pixels.length; i++) {
        const difference = Math.abs(pixels[i] - reference[i]);
        worst = Math.max(worst, difference);
        sum += difference;
      }
      // Lossy: ringing at the picture's sharp colour edges, small on average; a wrong colour transform is far off.
      const exact = lossless.includes(name);
      expect(worst, `${name} (${tags.photometric})`).toBeLessThanOrEqual(exact ? 0 : 12);
      expect(sum / pixels.length, `${name} (${tags.photometric})`).toBeLessThanOrEqual(exact ? 0 : 1);
    }
  });
});
