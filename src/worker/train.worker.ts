/// <reference lib="webworker" />
/**
 * The training worker's entry: wires the Trainer to this worker's messages. Nothing else lives
 * here, so the Trainer can be tested without a Worker. No DOM in this bundle.
 */
import type { ToTrainer } from './protocol';
import { trainerTransferables } from './transferables';
import { Trainer } from './trainer';

declare const self: DedicatedWorkerGlobalScope;

const trainer = new Trainer((message, transfer) =>
  self.postMessage(message, transfer ?? trainerTransferables(message)),
);

self.onmessage = (event: MessageEvent<ToTrainer>) => {
  void trainer.handle(event.data);
};
