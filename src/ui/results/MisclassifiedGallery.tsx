import { useEffect, useMemo, useState } from 'react';
import { cellImages, GALLERY_CAP, misclassifiedAt } from '../../eval/misclassified';
import type { TestResult } from '../../core/types';
import type { Cell } from './ConfusionTable';
import { GreyImage } from '../common/SampleGrid';

/** The pixels of some evaluated images, by index (the worker's `evaluatedImages`). */
export type FetchImages = (indices: number[]) => Promise<{ size: number; indices: Uint32Array; pixels: Uint8Array }>;

interface Props {
  result: TestResult;
  classNames: string[];
  paths: string[];
  /** The predicted class of each image, as the page decides it (threshold for two classes). */
  predicted: Uint8Array;
  splitName: string;
  /** Two classes: the class whose probability is the score (and is compared with the threshold). */
  positiveClass: number;
  /** A confusion-matrix cell whose images to show instead of the misclassified ones; null for those. */
  cell: Cell | null;
  onShowMisclassified: () => void;
  fetchImages: FetchImages;
  /** Opens an image in Predict with its Grad-CAM heatmap (absent: no button). */
  onExplain?: (image: ExplainImage) => void;
}

/** An evaluated image to see in Predict, with where the model looked. */
export interface ExplainImage {
  name: string;
  pixels: Uint8Array;
  size: number;
}

const NO_PIXELS = new Map<number, Uint8Array>();

/**
 * The evaluated images the model gets wrong at the current decision, worst first (lowest probability
 * for the true class), at most GALLERY_CAP (48); or, after a click on a confusion-matrix cell, that cell's
 * images, least confident first. The misclassified ones' pixels are the worker's candidates (`result.gallery`);
 * a cell's other images are asked of the worker when shown.
 */
export function MisclassifiedGallery({
  result,
  classNames,
  paths,
  predicted,
  splitName,
  positiveClass,
  cell,
  onShowMisclassified,
  fetchImages,
  onExplain,
}: Props) {
  const { indices, pixels, size } = result.gallery;
  // One view a candidate, made once a result, so each canvas redraws only when its image changes.
  const candidates = useMemo(() => {
    const area = size * size;
    return new Map(Array.from(indices, (index, k) => [index, pixels.subarray(k * area, (k + 1) * area)]));
  }, [indices, pixels, size]);
  const [fetched, setFetched] = useState({ result, pixels: NO_PIXELS });
  const extra = fetched.result === result ? fetched.pixels : NO_PIXELS;
  const wrong = useMemo(
    () => misclassifiedAt(result, predicted, indices, undefined, positiveClass),
    [result, predicted, indices, positiveClass],
  );
  const listing = useMemo(
    () => (cell ? cellImages(result, predicted, cell[0], cell[1], GALLERY_CAP, positiveClass) : null),
    [result, predicted, cell, positiveClass],
  );
  const total = useMemo(
    () => predicted.reduce((n, p, i) => n + (p === result.labels[i] ? 0 : 1), 0),
    [predicted, result.labels],
  );

  useEffect(() => {
    const missing = listing?.images.map((m) => m.index).filter((i) => !candidates.has(i) && !extra.has(i)) ?? [];
    if (missing.length === 0) return;
    let current = true;
    fetchImages(missing).then(
      (reply) => {
        if (!current) return;
        const area = reply.size * reply.size;
        setFetched((previous) => {
          const map = new Map(previous.result === result ? previous.pixels : NO_PIXELS);
          reply.indices.forEach((index, k) => map.set(index, reply.pixels.subarray(k * area, (k + 1) * area)));
          return { result, pixels: map };
        });
      },
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [listing, candidates, extra, fetchImages, result]);

  const scoreMeaning =
    result.numClasses === 2
      ? `the probability of ${classNames[positiveClass]}, as the threshold sees it`
      : 'the probability of the predicted class';
  const n = result.labels.length;
  const shown = listing ? listing.images : wrong;
  const label = cell ? `Images: ${classNames[cell[0]]} as ${classNames[cell[1]]}` : 'Misclassified images';
  return (
    <figure aria-label={label} className="misclassified">
      <figcaption>
        {listing && cell ? (
          <>
            {classNames[cell[0]]} as {classNames[cell[1]]}: {listing.total} of {n} {splitName} images
            {listing.total > shown.length ? `, the ${shown.length} least confident in their true class shown` : ''},
            least confident first. Score: {scoreMeaning}.{' '}
            <button type="button" onClick={onShowMisclassified}>
              Show misclassified images
            </button>
          </>
        ) : (
          <>
            Misclassified images:{' '}
            {total === 0
              ? `none of the ${n} ${splitName} images at this decision`
              : `${total} of ${n} ${splitName} images`}
            {total > wrong.length ? `, the ${wrong.length} worst shown` : ''}. Worst first: the lowest probability for
            the true class. Score: {scoreMeaning}.
          </>
        )}
      </figcaption>
      {shown.length > 0 && (
        <ul className="misclassified__grid">
          {shown.map((m) => {
            const path = paths[m.index] ?? `image ${m.index + 1}`;
            const name = `${classNames[m.truth]} as ${classNames[m.predicted]}: ${path} (score ${m.score.toFixed(2)})`;
            const image = candidates.get(m.index) ?? extra.get(m.index);
            return (
              <li key={m.index}>
                {image ? <GreyImage pixels={image} size={size} name={name} /> : <span aria-busy="true">loading…</span>}
                <span>
                  {classNames[m.truth]} as {classNames[m.predicted]} ({m.score.toFixed(2)})
                </span>
                <small>{path}</small>
                {image && onExplain && (
                  <button
                    type="button"
                    onClick={() => onExplain({ name: path, pixels: image, size })}
                    aria-label={`Where the model looked: ${path}`}
                  >
                    Where it looked
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </figure>
  );
}
