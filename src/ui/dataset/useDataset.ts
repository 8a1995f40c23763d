import { startTransition, useCallback, useRef, useState } from 'react';
import type { DecodedDataset, LoadProgress } from '../../data/types';
import { loadDataset } from '../../data/loadDataset';
import { makeDemoDataset } from '../../data/synthetic';
import type { Splits } from '../../core/types';
import type { ArchiveEntry } from '../../data/archive';
import type { SplitOptions } from './datasetOptions';
import type { LabelsTable } from '../../data/labelsFile';

/** Where the images come from, kept so the set can be decoded again at another size. */
export type DatasetSource =
  | { kind: 'demo' }
  | ((
      | { kind: 'archive'; name: string; blob: Blob }
      | { kind: 'files'; name: string; files: File[] }
      /** A dropped folder, walked into its files. */
      | { kind: 'entries'; name: string; entries: ArchiveEntry[] }
    ) & { labels?: LabelsTable });

/** What the page keeps of a decoded dataset once its pixel buffers have gone to the training worker. */
export type DatasetView = Omit<DecodedDataset, 'train' | 'validation' | 'test'> & {
  source: DatasetSource;
  used: { train: number; validation: number; test: number };
} & SplitOptions; // the split settings it was loaded with

export type DatasetState =
  | { phase: 'empty' }
  | { phase: 'loading'; source: DatasetSource; progress: LoadProgress; previous: DatasetView | null }
  | { phase: 'ready'; view: DatasetView };

export function sourceOf(files: File[]): DatasetSource {
  if (files.length === 1 && !files[0].webkitRelativePath)
    return { kind: 'archive', name: files[0].name, blob: files[0] };
  const top = files[0]?.webkitRelativePath.split('/')[0];
  return { kind: 'files', name: top || `${files.length} files`, files };
}

/**
 * Loads and decodes a dataset at a given size. The decoded splits are handed to `onDecoded`
 * (which transfers them to the worker); the page keeps only what it shows.
 */
export function useDataset(onDecoded: (splits: Splits) => void) {
  const [state, setState] = useState<DatasetState>({ phase: 'empty' });
  const [error, setError] = useState<string | null>(null);
  const abortRef = useRef<AbortController | null>(null);
  const stateRef = useRef(state);
  stateRef.current = state;

  const load = useCallback(
    async (source: DatasetSource, size: number, splits: SplitOptions): Promise<DatasetView | null> => {
      abortRef.current?.abort();
      const abort = new AbortController();
      abortRef.current = abort;
      const current = stateRef.current;
      const previous = current.phase === 'ready' ? current.view : current.phase === 'loading' ? current.previous : null;
      setError(null);
      setState({
        phase: 'loading',
        source,
        progress: { phase: 'listing', done: 0, total: 0, elapsedMs: 0, bytesRead: 0 },
        previous,
      });
      try {
        let decoded: DecodedDataset;
        if (source.kind === 'demo') {
          decoded = makeDemoDataset({ size, seed: 1 });
        } else {
          decoded = await loadDataset(
            source.kind === 'archive' ? source.blob : source.kind === 'files' ? source.files : source.entries,
            {
              size,
              testHoldout: splits.testPercent / 100,
              testPattern: splits.testPattern,
              validationFraction: splits.validationPercent / 100,
              grouping: splits,
              signal: abort.signal,
              ...(source.labels ? { labels: source.labels } : {}),
              // No pool passed: loadDataset starts decode workers for this load and ends them after it, so
              // what they hold (the zip's listing, decoder buffers) is freed once the images are in.
              // Transitions: React renders them in slices the page can interrupt (the whole page reads this state).
              onProgress: (progress) => {
                if (!abort.signal.aborted)
                  startTransition(() => setState({ phase: 'loading', source, progress, previous }));
              },
            },
          );
        }
        if (abort.signal.aborted) return null;
        const { train, validation, test, ...rest } = decoded;
        const view: DatasetView = {
          ...rest,
          source,
          used: { train: train.count, validation: validation.count, test: test?.count ?? 0 },
          ...splits,
        };
        onDecoded({ classNames: decoded.classNames, train, validation, test });
        // The summary, health report, samples and charts mount at once: in slices, not in one long task.
        startTransition(() => setState({ phase: 'ready', view }));
        return view;
      } catch (e) {
        if (abort.signal.aborted) return null;
        setError(e instanceof Error ? e.message : String(e));
        // Nothing already loaded is lost: the previous dataset stays.
        setState(previous ? { phase: 'ready', view: previous } : { phase: 'empty' });
        return null;
      } finally {
        if (abortRef.current === abort) abortRef.current = null;
      }
    },
    [onDecoded],
  );

  const cancel = useCallback(() => {
    abortRef.current?.abort();
    abortRef.current = null;
    const current = stateRef.current;
    if (current.phase === 'loading')
      setState(current.previous ? { phase: 'ready', view: current.previous } : { phase: 'empty' });
  }, []);

  return { state, error, load, cancel, dismissError: () => setError(null) };
}
