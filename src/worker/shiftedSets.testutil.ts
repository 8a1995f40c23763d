/**
 * The out-of-distribution test's images: the demo's synthetic chest images by split, and the same shifted (another
 * scale, a grey-level map, zoomed in, blurred, a lower resolution) or replaced by noise.
 */
import type { ImageSet } from '../core/types';
import { syntheticSplit } from '../data/synthetic';

export const SIZE = 32;

export function chestSet(
  split: 'train' | 'validation' | 'test',
  perClass: number,
  seed: number,
  size = SIZE,
): ImageSet {
  const images = syntheticSplit(split, perClass, size, seed);
  const area = size * size;
  const pixels = new Uint8Array(images.length * area);
  images.forEach((image, i) => pixels.set(image.pixels, i * area));
  return { size, count: images.length, pixels, labels: Uint8Array.from(images, (image) => image.classIndex) };
}

/** Each image of `set` drawn at half its size in the middle of a mid-grey square: the same anatomy, another scale. */
export function smaller(set: ImageSet): Uint8Array {
  const half = chestSet('test', set.count / 2, 99, SIZE / 2);
  const out = new Uint8Array(set.count * SIZE * SIZE).fill(128);
  const offset = SIZE / 4;
  for (let i = 0; i < set.count; i++) {
    for (let y = 0; y < SIZE / 2; y++) {
      for (let x = 0; x < SIZE / 2; x++)
        out[i * SIZE * SIZE + (y + offset) * SIZE + x + offset] = half.pixels[i * (SIZE / 2) ** 2 + y * (SIZE / 2) + x];
    }
  }
  return out;
}

/** Each pixel of `set` through `f` (on 0..1 values), rounded back to a byte. */
export function mapped(set: ImageSet, f: (v: number) => number): Uint8Array {
  return set.pixels.map((p) => Math.max(0, Math.min(255, Math.round(255 * f(p / 255)))));
}

/** Each image's central `share` of its side, zoomed back to full size (nearest pixel): tighter collimation. */
export function zoomedIn(set: ImageSet, share: number): Uint8Array {
  const out = new Uint8Array(set.count * SIZE * SIZE);
  const side = share * SIZE;
  const offset = (SIZE - side) / 2;
  for (let i = 0; i < set.count; i++) {
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const sy = Math.min(SIZE - 1, Math.floor(offset + ((y + 0.5) * side) / SIZE));
        const sx = Math.min(SIZE - 1, Math.floor(offset + ((x + 0.5) * side) / SIZE));
        out[i * SIZE * SIZE + y * SIZE + x] = set.pixels[i * SIZE * SIZE + sy * SIZE + sx];
      }
    }
  }
  return out;
}

/** Each image of `set` through a 3x3 box blur `times` times (edges clamped): a softer film of the same anatomy. */
export function blurred(set: ImageSet, times: number): Uint8Array {
  let out = set.pixels.slice();
  for (let t = 0; t < times; t++) {
    const from = out;
    out = new Uint8Array(from.length);
    for (let i = 0; i < set.count; i++) {
      const at = (y: number, x: number) =>
        from[i * SIZE * SIZE + Math.min(SIZE - 1, Math.max(0, y)) * SIZE + Math.min(SIZE - 1, Math.max(0, x))];
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          let sum = 0;
          for (let a = -1; a <= 1; a++) for (let b = -1; b <= 1; b++) sum += at(y + a, x + b);
          out[i * SIZE * SIZE + y * SIZE + x] = Math.round(sum / 9);
        }
      }
    }
  }
  return out;
}

/** Each image of `set` at half resolution (2x2 means), scaled back up by repeating pixels. */
export function lowResolution(set: ImageSet): Uint8Array {
  const out = new Uint8Array(set.pixels.length);
  for (let i = 0; i < set.count; i++) {
    const at = (y: number, x: number) => set.pixels[i * SIZE * SIZE + y * SIZE + x];
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const y0 = y & ~1;
        const x0 = x & ~1;
        out[i * SIZE * SIZE + y * SIZE + x] = Math.round(
          (at(y0, x0) + at(y0 + 1, x0) + at(y0, x0 + 1) + at(y0 + 1, x0 + 1)) / 4,
        );
      }
    }
  }
  return out;
}

export function noise(count: number, seed: number): Uint8Array {
  let state = seed;
  return Uint8Array.from({ length: count * SIZE * SIZE }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 24;
  });
}
