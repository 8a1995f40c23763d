import { assertNever } from '../core/assertNever';
import type { WorkerPort } from '../core/workerPort';
import {
  decoderTransferables,
  type DecodeSkipReason,
  type DicomFacts,
  type FromDecoder,
  type ToDecoder,
  type ZipEntryRef,
} from './decodeProtocol';
import { EntryTooLargeError } from './zipErrors';
import { DatasetError } from './errors';

/** A decode worker as the pool sees it (a fake one in tests). */
export type DecoderWorker = WorkerPort<ToDecoder, FromDecoder>;

/**
 * Jobs a worker holds at once: one decoding, the next ones already posted so the worker never waits
 * on the page between images. More would only hold more compressed images in memory.
 */
export const JOBS_PER_WORKER = 3;

/** One image decoded: grey pixels at the asked size, and the stored image's size (0 x 0 when unknown). */
export interface DecodedImage {
  pixels: Uint8Array;
  sourceWidth: number;
  sourceHeight: number;
  /** Bytes of the image file, and the time spent getting them (inflating, for a zip entry). */
  bytesRead?: number;
  readMs?: number;
  /** CRC-32 of the file's bytes and a hash of `pixels`, for the duplicate search (imageHash.ts). */
  fileCrc32?: number;
  pixelHash?: string;
  /** The grey pixels' fine detail (core/imageDetailSpec.ts' meanImageDetail; NaN or absent: unknown). */
  detail?: number;
  /** Set for a DICOM file: the tags the page shows, and its patient, hashed. */
  dicom?: DicomFacts;
}

/** A file that was skipped for a reason the skipped list names (a zip bomb, an unusable DICOM file, not an image). */
export class DecodeSkipError extends Error {
  constructor(
    readonly reason: DecodeSkipReason,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeSkipError';
  }
}

/** What the pool decodes: a file's bytes (`name`: its path, by which a DICOM file may be told), or a zip entry the worker reads itself. */
export type DecodeSource =
  { blob: Blob; name?: string; zip?: undefined } | { zip: ZipEntryRef; blob?: undefined; name?: undefined };

type Job = { id: number; source: DecodeSource; reject: (error: Error) => void } & (
  | { kind: 'decode'; size: number; resolve: (image: DecodedImage) => void }
  | { kind: 'patient'; resolve: (patient: string | null) => void }
);

interface Slot {
  worker: DecoderWorker;
  jobs: Map<number, Job>;
}

export function defaultWorkerCount(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : 0;
  return Math.max(1, Math.min(cores || 2, 8));
}

function createDecodeWorker(): DecoderWorker {
  // Written out in full here so that Vite sees it and bundles the worker.
  return new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module', name: 'decode' });
}

/**
 * Decodes images on a few workers at once. Workers start with the first job and stay for the next
 * dataset (starting them costs more than keeping them); `dispose` ends them.
 */
export class DecodePool {
  private slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private disposed = false;

  constructor(
    readonly workers: number = defaultWorkerCount(),
    private readonly createWorker: () => DecoderWorker = createDecodeWorker,
  ) {
    if (!Number.isInteger(workers) || workers < 1)
      throw new RangeError(`DecodePool needs at least one worker, not ${workers}`);
  }

  /** Grey pixels of `blob` squashed to `size` x `size`; rejects with the decoder's message if it cannot. */
  decode(blob: Blob, size: number): Promise<DecodedImage> {
    return this.decodeSource({ blob }, size);
  }

  /** As `decode`, for a file or a zip entry; a zip entry over its size cap rejects with EntryTooLargeError. */
  decodeSource(source: DecodeSource, size: number): Promise<DecodedImage> {
    if (this.disposed) return Promise.reject(new Error('The image decoder was closed.'));
    return new Promise<DecodedImage>((resolve, reject) => {
      this.queue.push({ kind: 'decode', id: this.nextId++, source, size, resolve, reject });
      this.pump();
    });
  }

  /** A DICOM file's PatientID, hashed, read from the file's head; null when it is not DICOM or names none. */
  readPatient(source: DecodeSource): Promise<string | null> {
    if (this.disposed) return Promise.reject(new Error('The image decoder was closed.'));
    return new Promise<string | null>((resolve, reject) => {
      this.queue.push({ kind: 'patient', id: this.nextId++, source, resolve, reject });
      this.pump();
    });
  }

  /** Jobs posted to workers or waiting for one. */
  get pending(): number {
    return this.queue.length + this.slots.reduce((sum, slot) => sum + slot.jobs.size, 0);
  }

  /** Ends the workers; jobs not yet done are rejected. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.fail(new Error('Decoding was cancelled: the image decoder was closed.'));
  }

  private pump(): void {
    if (this.slots.length === 0 && this.queue.length > 0) this.start();
    // Least-busy first, so jobs spread over all workers rather than filling the first.
    while (this.queue.length > 0) {
      const slot = this.slots.reduce<Slot | null>(
        (best, s) => (s.jobs.size < (best?.jobs.size ?? JOBS_PER_WORKER) ? s : best),
        null,
      );
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.jobs.set(job.id, job);
      const message: ToDecoder =
        job.kind === 'decode'
          ? { type: 'decode', id: job.id, size: job.size, ...job.source }
          : { type: 'patient', id: job.id, ...job.source };
      slot.worker.postMessage(message, decoderTransferables(message));
    }
  }

  private start(): void {
    for (let i = 0; i < this.workers; i++) {
      const slot: Slot = { worker: this.createWorker(), jobs: new Map() };
      slot.worker.onmessage = (event) => this.receive(slot, event.data);
      // A worker that fails to load or dies takes nothing with it but the current dataset:
      // every worker is ended, and the next job starts fresh ones.
      slot.worker.onerror = (event) => {
        event.preventDefault?.();
        this.crash(event.message);
      };
      slot.worker.onmessageerror = () => this.crash('a message could not be read');
      this.slots.push(slot);
    }
  }

  private receive(slot: Slot, message: FromDecoder): void {
    const job = slot.jobs.get(message.id);
    if (!job) return;
    slot.jobs.delete(message.id);
    switch (message.type) {
      case 'decoded':
        if (job.kind !== 'decode') break;
        job.resolve({
          pixels: message.pixels,
          sourceWidth: message.sourceWidth,
          sourceHeight: message.sourceHeight,
          bytesRead: message.bytesRead,
          readMs: message.readMs,
          fileCrc32: message.fileCrc32,
          pixelHash: message.pixelHash,
          detail: message.detail,
          ...(message.dicom ? { dicom: message.dicom } : {}),
        });
        break;
      case 'decodeFailed':
        job.reject(
          message.skipReason === 'too-large'
            ? new EntryTooLargeError(message.message)
            : message.skipReason
              ? new DecodeSkipError(message.skipReason, message.message)
              : new Error(message.message),
        );
        break;
      case 'patient':
        if (job.kind === 'patient') job.resolve(message.patient);
        break;
      default:
        assertNever(message);
    }
    this.pump();
  }

  private crash(detail: string | undefined): void {
    this.fail(
      new DatasetError(
        `The image decoder stopped${detail ? ` (${detail})` : ''}. Reload the page and try again; if it happens again, use a recent Chrome, Edge, Firefox or Safari.`,
      ),
    );
  }

  private fail(error: Error): void {
    const jobs = [...this.slots.flatMap((slot) => [...slot.jobs.values()]), ...this.queue.splice(0)];
    for (const slot of this.slots) {
      slot.worker.onmessage = null;
      slot.worker.onerror = null;
      slot.worker.onmessageerror = null;
      slot.worker.terminate();
    }
    this.slots = [];
    for (const job of jobs) job.reject(error);
  }
}
