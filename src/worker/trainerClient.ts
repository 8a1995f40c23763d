/**
 * The page's side of the training worker: a plain TypeScript client, no React inside.
 * Every request gets an id; its promise settles with the reply or the error that names that id,
 * and only its own progress messages reach its `onProgress`. A failure therefore fails that request
 * alone: a preview that fails during a run leaves the run going. If the worker dies, every pending
 * request fails with the same message, and the next request starts a fresh worker.
 */
import { assertNever } from '../core/assertNever';
import type { WorkerPort } from '../core/workerPort';
import { trainerTransferables } from './transferables';
import {
  type FromTrainer,
  type ToTrainer,
  type TrainerReplies,
  type TrainerRequestOf,
  type TrainerRequestType,
  type TrainProgress,
} from './protocol';

/** The training worker as the client sees it (an in-memory one in tests). */
export type TrainerPort = WorkerPort<ToTrainer, FromTrainer>;

/** A request on its way: its id (a `stop` names the run by it) and its reply. */
export interface PendingRequest<K extends TrainerRequestType> {
  id: number;
  reply: Promise<TrainerReplies[K]>;
}

/** Raised for every pending request when the worker itself dies (out of memory, a crash). */
export class TrainerCrashedError extends Error {
  override name = 'TrainerCrashedError';
}

interface Pending {
  type: TrainerRequestType;
  resolve: (reply: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (progress: TrainProgress) => void;
}

function createTrainerWorker(): TrainerPort {
  // Written out in full here so that Vite sees it and bundles the worker.
  return new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module', name: 'trainer' });
}

export class TrainerClient {
  private port: TrainerPort | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly crashListeners = new Set<(error: TrainerCrashedError) => void>();

  constructor(private readonly createWorker: () => TrainerPort = createTrainerWorker) {}

  /** Sends `request`; `onProgress` receives the progress messages of this request only. */
  start<K extends TrainerRequestType>(
    request: TrainerRequestOf<K>,
    onProgress?: (progress: TrainProgress) => void,
  ): PendingRequest<K> {
    const id = this.nextId++;
    const reply = new Promise<TrainerReplies[K]>((resolve, reject) => {
      this.pending.set(id, { type: request.type, resolve: resolve as (reply: unknown) => void, reject, onProgress });
    });
    const message: ToTrainer = { id, request };
    try {
      this.ensurePort().postMessage(message, trainerTransferables(message));
    } catch (error) {
      // e.g. a buffer already transferred: this request fails, nothing else.
      this.settle(id)?.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return { id, reply };
  }

  /** `start` for requests whose id the caller does not need. */
  request<K extends TrainerRequestType>(
    request: TrainerRequestOf<K>,
    onProgress?: (progress: TrainProgress) => void,
  ): Promise<TrainerReplies[K]> {
    return this.start(request, onProgress).reply;
  }

  /** Requests sent and not yet answered. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Calls `listener` when the worker dies; returns the function that stops listening. */
  onCrash(listener: (error: TrainerCrashedError) => void): () => void {
    this.crashListeners.add(listener);
    return () => this.crashListeners.delete(listener);
  }

  /** Ends the worker; pending requests fail. A later request starts a new one. */
  dispose(): void {
    this.drop(new Error('The training worker was closed.'));
  }

  private ensurePort(): TrainerPort {
    if (this.port) return this.port;
    const port = this.createWorker();
    port.onmessage = (event) => this.receive(event.data);
    port.onerror = (event) => {
      event.preventDefault?.();
      this.crash(event.message);
    };
    port.onmessageerror = () => this.crash('a message from it could not be read');
    this.port = port;
    return port;
  }

  private receive(message: FromTrainer): void {
    switch (message.type) {
      case 'progress':
        this.pending.get(message.id)?.onProgress?.(message.progress);
        break;
      case 'reply': {
        const pending = this.settle(message.id);
        if (!pending) break;
        if (message.reply.type === pending.type) pending.resolve(message.reply);
        else
          pending.reject(
            new Error(`The training worker answered a ${pending.type} request with ${message.reply.type}.`),
          );
        break;
      }
      case 'error':
        this.settle(message.id)?.reject(new Error(message.message));
        break;
      default:
        assertNever(message);
    }
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    return pending;
  }

  private crash(detail: string | undefined): void {
    const error = new TrainerCrashedError(
      `The training worker stopped unexpectedly (${detail || 'no reason given'}), most often because it ran out of memory.`,
    );
    this.drop(error);
    for (const listener of this.crashListeners) listener(error);
  }

  private drop(error: Error): void {
    const port = this.port;
    this.port = null;
    if (port) {
      port.onmessage = null;
      port.onerror = null;
      port.onmessageerror = null;
      port.terminate();
    }
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
  }
}
