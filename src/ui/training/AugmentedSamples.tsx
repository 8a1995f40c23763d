import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { AugmentationSettings } from '../../core/types';
import type { AugmentationPreview } from '../../worker/protocol';
import { GreyImage } from '../common/SampleGrid';
import type { TrainingStore } from './trainingStore';

/** 8 of the sample images, 3 draws each. */
export const PREVIEW_COUNT = 8;
export const PREVIEW_VARIANTS = 3;
/** Seeds the preview's own draws: the same settings show the same draws every time. */
const PREVIEW_SEED = 1;

/** A preview, and which request it answers (for the figure's `data-preview-id`). */
export interface ShownPreview extends AugmentationPreview {
  requestNumber: number;
}

/**
 * Asks the training worker for augmented samples of the sample grid's first images whenever they
 * (a new dataset) or the settings change, a moment after the last change; shows the answer to the
 * latest request only, whatever order the answers come in. A failure is said through `onError`
 * and touches nothing else (a run going on carries on).
 */
export function useAugmentationPreview(
  store: TrainingStore,
  trainIndices: readonly number[] | null,
  augmentation: AugmentationSettings,
  onError: (message: string) => void,
) {
  const [preview, setPreview] = useState<ShownPreview | null>(null);
  const [requested, setRequested] = useState(0);
  const requests = useRef(0);

  useEffect(() => {
    if (trainIndices === null) return;
    let current = true;
    const timer = setTimeout(() => {
      const requestNumber = ++requests.current;
      setRequested(requestNumber);
      store
        .previewAugmentation({
          augmentation,
          indices: trainIndices.slice(0, PREVIEW_COUNT),
          variants: PREVIEW_VARIANTS,
          seed: PREVIEW_SEED,
        })
        .then(
          (answer) => {
            if (current) setPreview({ ...answer, requestNumber });
          },
          (error: unknown) => {
            if (!current) return;
            setRequested(0);
            onError(
              `The augmented samples could not be shown: ${error instanceof Error ? error.message : String(error)}`,
            );
          },
        );
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [store, trainIndices, augmentation, onError]);

  return { preview, pending: requested !== 0 && preview?.requestNumber !== requested };
}

/** The `Augmented samples` figure: each sample's draws side by side, as training will see them. */
export const AugmentedSamples = memo(function AugmentedSamples({
  preview,
  pending,
}: {
  preview: ShownPreview | null;
  pending: boolean;
}) {
  const images = useMemo(() => {
    if (!preview) return [];
    const area = preview.size * preview.size;
    return preview.classes.map((label, s) => ({
      label,
      draws: Array.from({ length: preview.variants }, (_, v) =>
        preview.pixels.subarray((s * preview.variants + v) * area, (s * preview.variants + v + 1) * area),
      ),
    }));
  }, [preview]);

  return (
    <figure
      aria-label="Augmented samples"
      aria-busy={pending}
      data-preview-id={preview?.requestNumber ?? 0}
      className="samples"
    >
      <figcaption>
        Augmented samples: the first {PREVIEW_COUNT} sample images, {PREVIEW_VARIANTS} random draws each, made by the
        training worker exactly as training makes them (a fresh draw every epoch){pending ? ' — updating…' : '.'}
      </figcaption>
      {preview && (
        <ul className="augmented__grid">
          {images.map((image, s) => (
            <li key={s}>
              <span className="samples__label">{image.label}</span>
              <div className="augmented__row">
                {image.draws.map((pixels, v) => (
                  <GreyImage
                    key={v}
                    pixels={pixels}
                    size={preview.size}
                    name={`${image.label} ${s + 1}: augmentation ${v + 1}`}
                  />
                ))}
              </div>
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
});
