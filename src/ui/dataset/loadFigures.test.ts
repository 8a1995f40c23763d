import { describe, expect, it } from 'vitest';
import { describeLoadStats, formatSize, loadRate } from './loadFigures';

describe('loadRate', () => {
  it('gives images per second, MB per second and the time left while decoding', () => {
    expect(loadRate({ phase: 'decoding', done: 300, total: 1200, elapsedMs: 2000, bytesRead: 60e6 })).toEqual({
      imagesPerSecond: 150,
      megabytesPerSecond: 30,
      etaSeconds: 6,
    });
  });

  it('says nothing while listing, before any image, or in the first moments', () => {
    expect(loadRate({ phase: 'listing', done: 10, total: 100, elapsedMs: 5000, bytesRead: 0 })).toBeNull();
    expect(loadRate({ phase: 'decoding', done: 0, total: 100, elapsedMs: 5000, bytesRead: 0 })).toBeNull();
    expect(loadRate({ phase: 'decoding', done: 5, total: 100, elapsedMs: 100, bytesRead: 1e6 })).toBeNull();
  });
});

describe('describeLoadStats', () => {
  it('says what was read, how fast, and what listing took', () => {
    expect(
      describeLoadStats({
        listMs: 410,
        decodeMs: 30_870,
        entries: 17_582,
        images: 5856,
        bytesRead: 1.95e9,
        readMs: 0,
        sourcePixels: 10_250e6,
      }),
    ).toBe(
      'Read and decoded 5,856 images from 2 GB in 31 s (190 images/s, 332 megapixels/s); listing 17,582 entries took 0.4 s.',
    );
  });

  it('leaves out what was not measured', () => {
    expect(
      describeLoadStats({
        listMs: 0,
        decodeMs: 1500,
        entries: 30,
        images: 30,
        bytesRead: 0,
        readMs: 0,
        sourcePixels: 0,
      }),
    ).toBe('Read and decoded 30 images in 1.5 s (20 images/s).');
  });

  it('formats sizes in decimal units', () => {
    expect([formatSize(800), formatSize(35.4e6), formatSize(1.93e9)]).toEqual(['1 kB', '35 MB', '1.9 GB']);
  });
});
