import { useCallback, useEffect, useReducer, useRef } from 'react';
import { transferablesOf, type FromTrainer, type ToTrainer } from '../worker/protocol';
import { initialTrainingView, trainingReducer } from './trainingState';

type Listener = (message: FromTrainer) => void;

/**
 * Owns the training worker: one for the page's life, re-created if it dies.
 * The page talks to it only through `send` and the reduced `view`.
 */
export function useTrainer() {
  const [view, dispatch] = useReducer(trainingReducer, initialTrainingView);
  const workerRef = useRef<Worker | null>(null);
  const listeners = useRef(new Set<Listener>());

  const startWorker = useCallback(() => {
    const worker = new Worker(new URL('../worker/train.worker.ts', import.meta.url), { type: 'module', name: 'trainer' });
    worker.onmessage = (event: MessageEvent<FromTrainer>) => {
      dispatch({ type: 'message', message: event.data, at: performance.now() });
      for (const listener of listeners.current) listener(event.data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      dispatch({
        type: 'workerFailed',
        message: `The training worker stopped unexpectedly (${event.message || 'no reason given'}). Your dataset is still loaded: press Train to start again.`,
      });
      worker.terminate();
      workerRef.current = null;
    };
    workerRef.current = worker;
    return worker;
  }, []);

  useEffect(() => {
    const worker = startWorker();
    return () => {
      worker.terminate();
      workerRef.current = null;
    };
  }, [startWorker]);

  const send = useCallback(
    (message: ToTrainer) => {
      const worker = workerRef.current ?? startWorker();
      if (message.type === 'train') dispatch({ type: 'trainRequested' });
      if (message.type === 'stop') dispatch({ type: 'stopRequested' });
      worker.postMessage(message, transferablesOf(message));
    },
    [startWorker],
  );

  /** Waits for the first message that `pick` accepts (e.g. the exported model). */
  const waitFor = useCallback(<T,>(pick: (m: FromTrainer) => T | undefined): Promise<T> => {
    return new Promise((resolve, reject) => {
      const listener: Listener = (m) => {
        if (m.type === 'error') {
          listeners.current.delete(listener);
          reject(new Error(m.message));
          return;
        }
        const picked = pick(m);
        if (picked !== undefined) {
          listeners.current.delete(listener);
          resolve(picked);
        }
      };
      listeners.current.add(listener);
    });
  }, []);

  /** Calls `listener` with every message of the worker until the returned function is called. */
  const subscribe = useCallback((listener: Listener): (() => void) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const dismissError = useCallback(() => dispatch({ type: 'dismissError' }), []);
  const reset = useCallback(() => dispatch({ type: 'reset' }), []);

  return { view, send, waitFor, subscribe, dismissError, reset };
}
