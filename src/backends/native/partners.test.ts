import { describe, expect, it } from 'vitest';
import { ChunkQueue, CHUNK_ARGS, InlinePartner, MAX_CHUNKS, shareOf, takeChunks } from './partners';

describe('the chunk queue split kernels share between threads', () => {
  it('hands out every chunk once, with its own arguments, then -1', () => {
    const queue = new ChunkQueue(new SharedArrayBuffer(ChunkQueue.BYTES));
    queue.fill(5, (chunk) => [chunk * 10, chunk * 10 + 2 ** 33]);
    const taken: number[][] = [];
    takeChunks((...args) => taken.push(args.slice(0, 2)), queue);
    expect(taken).toEqual([0, 1, 2, 3, 4].map((k) => [k * 10, k * 10 + 2 ** 33]));
    expect(queue.take()).toBe(-1);
    // A new call starts from its first chunk again, and unused arguments are zero.
    queue.fill(2, () => [7]);
    expect(queue.take()).toBe(0);
    expect(queue.argsOf(0)).toEqual([7, ...new Array(CHUNK_ARGS - 1).fill(0)]);
  });

  it('refuses more chunks or arguments than it holds', () => {
    const queue = new ChunkQueue();
    expect(() => queue.fill(MAX_CHUNKS + 1, () => [])).toThrow(RangeError);
    expect(() => queue.fill(1, () => new Array(CHUNK_ARGS + 1).fill(1))).toThrow(RangeError);
  });

  it('an inline partner takes its fair part; the caller takes the rest, and the chunks cover the items once', () => {
    const queue = new ChunkQueue();
    const count = 1000;
    const chunks = 12;
    queue.fill(chunks, (chunk) => shareOf(count, chunks, chunk));
    const covered = new Uint8Array(count);
    const byWhom: string[] = [];
    const mark = (who: string) => (start: number, end: number) => {
      byWhom.push(who);
      for (let i = start; i < end; i++) covered[i]++;
    };
    // Three threads in all: each of two partners takes 4 chunks, the caller the last 4.
    for (const partner of [0, 1]) new InlinePartner({ max_pool_2x2_grad: mark(`partner ${partner}`) }, 3).start('max_pool_2x2_grad', queue);
    takeChunks(mark('caller'), queue);
    expect(byWhom.filter((w) => w === 'partner 0')).toHaveLength(4);
    expect(byWhom.filter((w) => w === 'caller')).toHaveLength(4);
    expect(Array.from(covered).every((n) => n === 1)).toBe(true);
  });
});
