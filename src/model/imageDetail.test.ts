import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import { DETAIL_EPSILON, MIN_DETAIL_SIZE, meanImageDetail } from '../core/imageDetailSpec';
import { imageDetail } from './imageDetail';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The definition, in float64 loops: another path than the tfjs ops. One image, [h][w] grey. */
function detailOf(image: number[][]): number[] {
  let x = image;
  const out: number[] = [];
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      const h = Math.floor(x.length / 2);
      const w = Math.floor(x[0].length / 2);
      const prev = x;
      x = Array.from({ length: h }, (_, i) =>
        Array.from(
          { length: w },
          (_, j) =>
            (prev[2 * i][2 * j] + prev[2 * i][2 * j + 1] + prev[2 * i + 1][2 * j] + prev[2 * i + 1][2 * j + 1]) / 4,
        ),
      );
    }
    let sum = 0;
    let count = 0;
    for (let i = 1; i < x.length - 1; i++) {
      for (let j = 1; j < x[0].length - 1; j++) {
        sum += Math.abs(4 * x[i][j] - x[i - 1][j] - x[i + 1][j] - x[i][j - 1] - x[i][j + 1]);
        count++;
      }
    }
    out.push(Math.log(sum / count + DETAIL_EPSILON));
  }
  return out;
}

function randomImage(h: number, w: number, seed: number): number[][] {
  const random = mulberry32(seed);
  return Array.from({ length: h }, () => Array.from({ length: w }, () => random()));
}

function detailOfTensor(images: number[][][][]): number[][] {
  const xs = tf.tensor4d(images);
  const detail = imageDetail(xs);
  const rows = detail.arraySync();
  tf.dispose([xs, detail]);
  return rows;
}

describe('imageDetail', () => {
  it('is ln(mean |Laplacian| + 1e-4) at four octaves, odd sides included', () => {
    for (const [h, w] of [
      [48, 48],
      [37, 53],
      [24, 24],
    ]) {
      const images = [randomImage(h, w, h), randomImage(h, w, w + 7)];
      const got = detailOfTensor(images.map((image) => image.map((row) => row.map((v) => [v]))));
      images.forEach((image, n) => {
        const expected = detailOf(image);
        got[n].forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
      });
    }
  });

  it("is, averaged over its octaves, the number the dataset's health report reads from grey bytes", () => {
    for (const [h, w] of [
      [150, 150],
      [37, 53],
    ]) {
      const random = mulberry32(h + w);
      const bytes = Uint8Array.from({ length: h * w }, () => Math.floor(256 * random()));
      const image = Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => [bytes[y * w + x] / 255]));
      const octaves = detailOfTensor([image])[0];
      expect(meanImageDetail(bytes, w, h)).toBeCloseTo(octaves.reduce((a, b) => a + b, 0) / octaves.length, 5);
    }
    expect(meanImageDetail(new Uint8Array(23 * 23), 23, 23)).toBeNaN();
  });

  it('averages several channels into one grey first', () => {
    const r = randomImage(32, 32, 1);
    const g = randomImage(32, 32, 2);
    const b = randomImage(32, 32, 3);
    const got = detailOfTensor([r.map((row, i) => row.map((v, j) => [v, g[i][j], b[i][j]]))]);
    const expected = detailOf(r.map((row, i) => row.map((v, j) => (v + g[i][j] + b[i][j]) / 3)));
    got[0].forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
  });

  it('falls when an image is blurred, most at the finest scale, and is finite on a flat image', () => {
    const sharp = randomImage(64, 64, 9);
    // A 3x3 box blur (edges clamped).
    const at = (i: number, j: number) => sharp[Math.min(63, Math.max(0, i))][Math.min(63, Math.max(0, j))];
    const blurred = sharp.map((row, i) =>
      row.map((_, j) => {
        let sum = 0;
        for (let a = -1; a <= 1; a++) for (let b = -1; b <= 1; b++) sum += at(i + a, j + b);
        return sum / 9;
      }),
    );
    const [s, bl] = detailOfTensor([sharp, blurred].map((image) => image.map((row) => row.map((v) => [v]))));
    expect(bl[0]).toBeLessThan(s[0] - 1);
    expect(s[0] - bl[0]).toBeGreaterThan(s[3] - bl[3]);
    const flat = detailOfTensor([Array.from({ length: 24 }, () => Array.from({ length: 24 }, () => [0.5]))])[0];
    flat.forEach((v) => expect(v).toBeCloseTo(Math.log(DETAIL_EPSILON), 5));
  });

  it('refuses images too small for the last octave', () => {
    const small = tf.zeros([1, MIN_DETAIL_SIZE - 1, 40, 1]);
    expect(() => imageDetail(small)).toThrow(/at least 24 pixels/);
    small.dispose();
  });
});
