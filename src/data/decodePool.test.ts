import { describe, expect, it } from 'vitest';
import type { FromDecoder, ToDecoder } from './decodeProtocol';
import { DecodePool, JOBS_PER_WORKER, defaultWorkerCount, type DecoderWorker } from './decodePool';
import { DatasetError } from './errors';

/**
 * A stand-in worker: "decodes" a blob into size*size copies of its first byte, after a tick;
 * a blob starting with 0 fails as a real decoder would.
 */
class FakeWorker implements DecoderWorker {
  static all: FakeWorker[] = [];
  onmessage: ((event: MessageEvent<FromDecoder>) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  onmessageerror: ((event: MessageEvent) => void) | null = null;
  inFlight = 0;
  maxInFlight = 0;
  handled = 0;
  terminated = false;

  constructor() {
    FakeWorker.all.push(this);
  }

  postMessage(message: ToDecoder): void {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    void message.blob!.arrayBuffer().then((buffer) => {
      setTimeout(() => {
        if (this.terminated) return;
        this.inFlight--;
        this.handled++;
        const first = new Uint8Array(buffer)[0];
        const reply: FromDecoder =
          first === 0
            ? { type: 'decodeFailed', id: message.id, message: 'The image could not be decoded.' }
            : {
                type: 'decoded',
                id: message.id,
                pixels: new Uint8Array(sizeOf(message) ** 2).fill(first),
                sourceWidth: first,
                sourceHeight: 2,
                bytesRead: 3,
                readMs: 0,
                fileCrc32: 0,
                pixelHash: '',
              };
        this.onmessage?.({ data: reply } as MessageEvent<FromDecoder>);
      }, 1);
    });
  }

  terminate(): void {
    this.terminated = true;
  }

  crash(message: string): void {
    this.onerror?.({ message, preventDefault() {} } as ErrorEvent);
  }
}

const blob = (first: number) => new Blob([new Uint8Array([first, 1, 2])]);

function makePool(workers: number) {
  FakeWorker.all = [];
  return new DecodePool(workers, () => new FakeWorker());
}

describe('DecodePool', () => {
  it('decodes every job, spread over the workers with a few in flight each', async () => {
    const pool = makePool(3);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.decode(blob(1 + (i % 200)), 4)));
    results.forEach((image, i) =>
      expect(image).toEqual({
        pixels: new Uint8Array(16).fill(1 + (i % 200)),
        sourceWidth: 1 + (i % 200),
        sourceHeight: 2,
        bytesRead: 3,
        readMs: 0,
        fileCrc32: 0,
        pixelHash: '',
      }),
    );
    expect(FakeWorker.all).toHaveLength(3);
    for (const worker of FakeWorker.all) {
      expect(worker.handled).toBeGreaterThan(5);
      expect(worker.maxInFlight).toBeLessThanOrEqual(JOBS_PER_WORKER);
    }
    expect(pool.pending).toBe(0);
    pool.dispose();
    expect(FakeWorker.all.every((w) => w.terminated)).toBe(true);
  });

  it('starts no worker before the first job', () => {
    const pool = makePool(2);
    expect(FakeWorker.all).toHaveLength(0);
    pool.dispose();
  });

  it("rejects a job with the worker's message, and goes on with the others", async () => {
    const pool = makePool(1);
    const outcomes = await Promise.allSettled([
      pool.decode(blob(5), 2),
      pool.decode(blob(0), 2),
      pool.decode(blob(6), 2),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('The image could not be decoded.');
    pool.dispose();
  });

  it('turns a crashed worker into a DatasetError for every pending job, then starts afresh', async () => {
    const pool = makePool(2);
    const jobs = Array.from({ length: 10 }, () => pool.decode(blob(9), 2));
    FakeWorker.all[0].crash('Failed to load');
    const outcomes = await Promise.allSettled(jobs);
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    const reason = (outcomes[0] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(DatasetError);
    expect(reason.message).toMatch(/^The image decoder stopped \(Failed to load\)\. Reload the page/);
    expect(FakeWorker.all.every((w) => w.terminated)).toBe(true);
    // The next job starts new workers.
    expect((await pool.decode(blob(3), 1)).pixels).toEqual(new Uint8Array([3]));
    expect(FakeWorker.all).toHaveLength(4);
    pool.dispose();
  });

  it('rejects pending and later jobs once disposed', async () => {
    const pool = makePool(1);
    const pending = pool.decode(blob(4), 2);
    pool.dispose();
    await expect(pending).rejects.toThrow(/cancelled/);
    await expect(pool.decode(blob(4), 2)).rejects.toThrow(/closed/);
  });

  it('needs at least one worker, and defaults to a sane number', () => {
    expect(() => new DecodePool(0, () => new FakeWorker())).toThrow(RangeError);
    expect(defaultWorkerCount()).toBeGreaterThanOrEqual(1);
    expect(defaultWorkerCount()).toBeLessThanOrEqual(8);
  });
});

function sizeOf(message: ToDecoder): number {
  return message.type === 'decode' ? message.size : 0;
}
