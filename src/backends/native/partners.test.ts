import { describe, expect, it } from 'vitest';
import { ChunkQueue, CHUNK_ARGS, InlinePartner, MAX_CHUNKS, shareOf, takeChunks } from './partners';

const noop = () => {};

describe('the chunk queue split kernels share between threads', () => {
  it('hands out every chunk once, with its own arguments, then -1', () => {
    const queue = new ChunkQueue(new SharedArrayBuffer(ChunkQueue.BYTES));
    queue.fill(5, (chunk) => [chunk * 10, chunk * 10 + 2 ** 33]);
    const taken: number[][] = [];
    takeChunks((...args) => taken.push(args.slice(0, 2)), queue);
    expect(taken).toEqual([0, 1, 2, 3, 4].map((k) => [k * 10, k * 10 + 2 ** 33]));
    expect(queue.take(queue.job)).toBe(-1);
    // A new call starts from its first chunk again, and unused arguments are zero.
    queue.fill(2, () => [7]);
    expect(queue.take(queue.job)).toBe(0);
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
    for (const partner of [0, 1])
      new InlinePartner({ max_pool_2x2_grad: mark(`partner ${partner}`) }, 3).start('max_pool_2x2_grad', queue);
    takeChunks(mark('caller'), queue);
    expect(byWhom.filter((w) => w === 'partner 0')).toHaveLength(4);
    expect(byWhom.filter((w) => w === 'caller')).toHaveLength(4);
    expect(Array.from(covered).every((n) => n === 1)).toBe(true);
  });

  it('a thread late for a call takes no chunk of the next one, and the caller waits only for chunks under way', () => {
    const queue = new ChunkQueue(new SharedArrayBuffer(ChunkQueue.BYTES));
    queue.fill(3, (chunk) => [chunk], 'relu');
    const first = queue.job;
    // The caller takes and does every chunk (the helper slept through the call): nothing to wait for.
    takeChunks(noop, queue, first);
    queue.waitDone(first, 0);
    queue.fill(4, (chunk) => [100 + chunk], 'max_pool_2x2');
    expect(queue.job).not.toBe(first);
    // The helper wakes now, for the first call: it finds nothing to take.
    expect(queue.take(first)).toBe(-1);
    // One chunk of the second call under way on another thread: the caller's wait ends only once it is done.
    const second = queue.job;
    const other = queue.take(second);
    expect(queue.argsOf(other)[0]).toBe(100);
    takeChunks(noop, queue, second);
    expect(() => queue.waitDone(second, 0)).toThrow(/stopped answering \(max_pool_2x2: 3 of 4 chunks done\)/);
    queue.chunkDone(second, false, true);
    queue.waitDone(second, 0);
    expect(queue.chunksByHelpers).toBe(1); // the one chunk the other thread did
  });

  it('a chunk that fails is counted done and reported to the caller', () => {
    const queue = new ChunkQueue();
    queue.fill(2, (chunk) => [chunk], 'relu');
    const job = queue.job;
    expect(() =>
      takeChunks(
        () => {
          throw new Error('trap');
        },
        queue,
        job,
      ),
    ).toThrow('trap');
    takeChunks(noop, queue, job);
    expect(() => queue.waitDone(job, 0)).toThrow('A WebAssembly kernel failed on a helper thread.');
  });
});
