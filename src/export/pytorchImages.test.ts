/**
 * The PyTorch bundle with the machine's PyTorch (skipped without it; the fixture is pytorchFixture.testutil.ts): train.py
 * reads a JPEG's EXIF orientation, as the page does, before it squashes the image to the model's input.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { rgba, withExifOrientation } from '../../e2e/imageFormats';
import { disposeCnn } from '../model/cnn';
import { appModelZip } from './pytorchAppModel.testutil';
import { hasTorch, SIZE, torchPredict, useBundle } from './pytorchFixture.testutil';

/** A JPEG stored 64 x 32 (left half dark, right half bright) whose EXIF says: turn 90° clockwise to show it. */
function rotatedJpeg(): Uint8Array {
  const [width, height] = [64, 32];
  const data = rgba(width, height, (x) => (x < width / 2 ? 10 : 240));
  return withExifOrientation(jpeg.encode({ data, width, height }, 95).data, 6);
}

describe.skipIf(!hasTorch)('the PyTorch bundle with PyTorch: images as the page decodes them', () => {
  const bundle = useBundle();

  it('applies EXIF orientation before squashing an image', async () => {
    const path = join(bundle.root, 'rotated.jpeg');
    writeFileSync(path, rotatedJpeg());
    const zip = join(bundle.root, 'exif-model.zip');
    disposeCnn(await appModelZip('tutorial', 2, zip));
    const [item] = torchPredict(zip, [path]);
    const mean = (from: number, to: number) => {
      let sum = 0;
      for (let y = from; y < to; y++) for (let x = 0; x < SIZE; x++) sum += item.pixels[y * SIZE + x];
      return sum / ((to - from) * SIZE);
    };
    // Stored: dark left, bright right; shown (turned 90° clockwise): dark top, bright bottom.
    expect(mean(0, 15)).toBeLessThan(40);
    expect(mean(25, 40)).toBeGreaterThan(210);
  }, 60_000);
});
