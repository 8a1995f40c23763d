import { useState } from 'react';

/** What `useAnswerFor` gives: the answer for the current key, the request's state, and how to ask. */
export interface AnswerFor<T> {
  /** The answer asked for the current key; null before one arrives, or once the key has changed. */
  answer: T | null;
  pending: boolean;
  error: string | null;
  /** Whether the last request (pending, answered or failed) was for the current key. */
  current: boolean;
  ask: (request: () => Promise<T>) => void;
}

/**
 * The state of a request the page makes on a click (the Results' on-request checks): its answer belongs to the `key`
 * it was asked for (a report, a run's result), so a new key makes it stale until asked again.
 */
export function useAnswerFor<K, T>(key: K): AnswerFor<T> {
  const [state, setState] = useState<{ answer: T | null; pending: boolean; error: string | null; for: K | null }>({
    answer: null,
    pending: false,
    error: null,
    for: null,
  });
  const current = state.for === key;
  return {
    answer: current ? state.answer : null,
    pending: state.pending,
    error: state.error,
    current,
    ask: (request) => {
      setState({ answer: null, pending: true, error: null, for: key });
      request().then(
        (answer) => setState({ answer, pending: false, error: null, for: key }),
        (e: unknown) =>
          setState({ answer: null, pending: false, error: e instanceof Error ? e.message : String(e), for: key }),
      );
    },
  };
}
