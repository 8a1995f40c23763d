import { useEffect, useRef, useState } from 'react';
import type { TestTimeAugmentation } from '../../core/types';
import { decodeImagesToPredict, type ImagesToPredict, type PredictSource } from '../../data/predictImages';
import type { Predictions } from '../../worker/protocol';
import type { ExplainImage } from '../results/MisclassifiedGallery';
import type { TrainingStore } from '../training/trainingStore';
import type { Decision } from './predictionRows';

export interface PredictResult {
  images: ImagesToPredict;
  predictions: Predictions;
  modelKey: string;
}

export interface PredictInputs {
  store: TrainingStore;
  /** The model the worker holds, or null when there is none (nothing trained, restored or loaded). */
  model: { key: string; classNames: string[]; imageSize: number } | null;
  /** The page's decision (Results' operating point), or 0.5 on the last class when there is none. */
  decision: Decision;
  /** The Results' test-time augmentation: Predict scores the same way the threshold was chosen. */
  testTimeAugmentation: TestTimeAugmentation;
  onProblem: (message: string) => void;
  /** An image from the Results to explain here (a new object each time one is asked for). */
  explain: ExplainImage | null;
}

/** Rows drawn at once (each has a canvas and a heat image); more on request. */
export const PAGE = 60;

/**
 * The predict state of the Predict panel: reading the chosen images, scoring them in the worker (with heatmaps), the
 * progress meanwhile, the row shown enlarged, and how many rows are drawn. Predictions of another model are dropped;
 * an image of the Results (`explain`) is scored at once and shown enlarged.
 */
export function usePredict({ store, model, decision, testTimeAugmentation, onProblem, explain }: PredictInputs) {
  const [progress, setProgress] = useState<{ what: string; done: number; total: number } | null>(null);
  const [result, setResult] = useState<PredictResult | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [shown, setShown] = useState(PAGE);

  // Another model: its predictions are not these.
  const modelKey = model?.key ?? null;
  useEffect(() => {
    setResult((r) => (r && r.modelKey !== modelKey ? null : r));
  }, [modelKey]);

  const classNames = model?.classNames ?? [];

  const run = async (images: ImagesToPredict, select: boolean) => {
    if (!model) return;
    setProgress({ what: 'Predicting', done: 0, total: images.names.length });
    try {
      // A copy goes to the worker (transferred): the page keeps its own pixels for the table.
      const predictions = await store.predict({
        pixels: images.pixels.slice(),
        count: images.names.length,
        size: images.size,
        explain: true,
        testTimeAugmentation,
        threshold:
          classNames.length === 2 ? (decision.positiveClass === 1 ? decision.threshold : 1 - decision.threshold) : null,
      });
      setResult({ images, predictions, modelKey: model.key });
      if (select) {
        setSelected(0);
        document.getElementById('predict-heading')?.scrollIntoView({ block: 'start' });
      }
    } catch (error) {
      onProblem(`Predict failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setProgress(null);
    }
  };

  const predict = async (files: PredictSource) => {
    if (!model || files.length === 0) return;
    setSelected(null);
    setShown(PAGE);
    try {
      setProgress({ what: 'Reading images', done: 0, total: files.length });
      const images = await decodeImagesToPredict(files, model.imageSize, (done, total) =>
        setProgress({ what: 'Reading images', done, total }),
      );
      if (images.names.length === 0) {
        setResult(null);
        setProgress(null);
        onProblem(
          `No image could be read for Predict: ${
            images.skipped
              .map((s) => `${s.name} (${s.reason})`)
              .slice(0, 5)
              .join('; ') || 'nothing was chosen'
          }.`,
        );
        return;
      }
      await run(images, false);
    } catch (error) {
      setProgress(null);
      onProblem(`Predict failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  // An image of the Results, opened here with its heatmap.
  const runNow = useRef(run);
  runNow.current = run;
  useEffect(() => {
    if (!explain) return;
    setShown(PAGE);
    void runNow.current(
      { names: [explain.name], pixels: explain.pixels.slice(), size: explain.size, skipped: [] },
      true,
    );
  }, [explain]);

  return { progress, result, selected, setSelected, shown, setShown, predict };
}
