import { useMemo } from 'react';
import { misclassifiedAt } from '../eval/misclassified';
import type { TestResult } from '../core/types';
import { GreyImage } from './SampleGrid';

interface Props {
  result: TestResult;
  classNames: string[];
  paths: string[];
  /** The predicted class of each image, as the page decides it (threshold for two classes). */
  predicted: Uint8Array;
  splitName: string;
  /** Two classes: the class whose probability is the score (and is compared with the threshold). */
  positiveClass: number;
}

/**
 * The evaluated images the model gets wrong at the current decision, worst first (lowest probability
 * for the true class), at most GALLERY_CAP (48). The pixels are the worker's candidates (`result.gallery`).
 */
export function MisclassifiedGallery({ result, classNames, paths, predicted, splitName, positiveClass }: Props) {
  const { indices, pixels, size } = result.gallery;
  // One view a candidate, made once a result, so each canvas redraws only when its image changes.
  const pixelsOf = useMemo(() => {
    const area = size * size;
    return new Map(Array.from(indices, (index, k) => [index, pixels.subarray(k * area, (k + 1) * area)]));
  }, [indices, pixels, size]);
  const wrong = useMemo(() => misclassifiedAt(result, predicted, indices, undefined, positiveClass), [result, predicted, indices, positiveClass]);
  const scoreMeaning =
    result.numClasses === 2 ? `the probability of ${classNames[positiveClass]}, as the threshold sees it` : 'the probability of the predicted class';
  const total = useMemo(() => predicted.reduce((n, p, i) => n + (p === result.labels[i] ? 0 : 1), 0), [predicted, result.labels]);

  return (
    <figure aria-label="Misclassified images" className="misclassified">
      <figcaption>
        Misclassified images: {total === 0 ? `none of the ${result.labels.length} ${splitName} images at this decision` : `${total} of ${result.labels.length} ${splitName} images`}
        {total > wrong.length ? `, the ${wrong.length} worst shown` : ''}. Worst first: the lowest probability for the true class. Score:{' '}
        {scoreMeaning}.
      </figcaption>
      {wrong.length > 0 && (
        <ul className="misclassified__grid">
          {wrong.map((m) => {
            const path = paths[m.index] ?? `image ${m.index + 1}`;
            const name = `${classNames[m.truth]} as ${classNames[m.predicted]}: ${path} (score ${m.score.toFixed(2)})`;
            const image = pixelsOf.get(m.index);
            return (
              <li key={m.index}>
                {image && <GreyImage pixels={image} size={size} name={name} />}
                <span>
                  {classNames[m.truth]} as {classNames[m.predicted]} ({m.score.toFixed(2)})
                </span>
                <small>{path}</small>
              </li>
            );
          })}
        </ul>
      )}
    </figure>
  );
}
