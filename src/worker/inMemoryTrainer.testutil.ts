/**
 * A training worker without a Worker, for tests: a real Trainer behind a TrainerPort, with every
 * message delivered as a separate task in both directions, as postMessage does.
 */
import { WasmOnlyBackends } from '../backends/wasmOnly.testutil';
import type { FromTrainer, ToTrainer } from './protocol';
import { Trainer } from './trainer';
import type { TrainerOptions } from './trainerOptions';
import type { TrainerPort } from './trainerClient';

export class InMemoryTrainerPort implements TrainerPort {
  onmessage: ((event: MessageEvent<FromTrainer>) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  onmessageerror: ((event: MessageEvent) => void) | null = null;
  terminated = false;
  /** Every message the worker side posted, in order. */
  readonly posted: FromTrainer[] = [];
  readonly trainer: Trainer;

  constructor(options: TrainerOptions = {}) {
    this.trainer = new Trainer(
      (message) => {
        this.posted.push(message);
        setTimeout(() => {
          if (!this.terminated) this.onmessage?.({ data: message } as MessageEvent<FromTrainer>);
        }, 0);
      },
      { backends: new WasmOnlyBackends(), ...options },
    );
  }

  postMessage(message: ToTrainer): void {
    setTimeout(() => {
      if (!this.terminated) void this.trainer.handle(message);
    }, 0);
  }

  terminate(): void {
    this.terminated = true;
  }

  /** As the browser reports a worker that died (out of memory, say). */
  die(message: string): void {
    this.onerror?.({ message, preventDefault: () => {} } as ErrorEvent);
  }
}
