/** What a client needs of a Worker that takes `In` and posts `Out` (an in-memory stand-in in tests). */
export interface WorkerPort<In, Out> {
  postMessage(message: In, transfer: Transferable[]): void;
  terminate(): void;
  onmessage: ((event: MessageEvent<Out>) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  onmessageerror: ((event: MessageEvent) => void) | null;
}
