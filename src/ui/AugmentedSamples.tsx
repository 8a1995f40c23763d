import { useEffect, useMemo, useRef, useState } from 'react';
import type { AugmentationSettings, FromTrainer, ToTrainer } from '../worker/protocol';
import { GreyImage } from './SampleGrid';

type Preview = Extract<FromTrainer, { type: 'augmentationPreview' }>;

/** 8 of the sample images, 3 draws each. */
export const PREVIEW_COUNT = 8;
export const PREVIEW_VARIANTS = 3;
/** The seed the sample grid was drawn with (loadDataset's and the demo set's default): the same first images. */
const SAMPLE_SEED = 1;

interface TrainerLink {
  send: (message: ToTrainer) => void;
  subscribe: (listener: (message: FromTrainer) => void) => () => void;
}

/**
 * Asks the training worker for augmented samples whenever the dataset (`dataKey`) or the settings
 * change, a moment after the last change; keeps the answer to the latest request only.
 */
export function useAugmentationPreview(trainer: TrainerLink, dataKey: unknown, augmentation: AugmentationSettings) {
  const { send, subscribe } = trainer;
  const [preview, setPreview] = useState<Preview | null>(null);
  const [requested, setRequested] = useState(0);
  const latest = useRef(0);

  useEffect(
    () =>
      subscribe((message) => {
        if (message.type === 'augmentationPreview' && message.id === latest.current) setPreview(message);
      }),
    [subscribe],
  );

  useEffect(() => {
    if (dataKey === null || dataKey === undefined) return;
    const timer = setTimeout(() => {
      const id = latest.current + 1;
      latest.current = id;
      setRequested(id);
      send({ type: 'previewAugmentation', id, augmentation, seed: SAMPLE_SEED, count: PREVIEW_COUNT, variants: PREVIEW_VARIANTS });
    }, 200);
    return () => clearTimeout(timer);
  }, [send, dataKey, augmentation]);

  return { preview, pending: requested !== 0 && preview?.id !== requested };
}

/** The `Augmented samples` figure: each sample's draws side by side, as training will see them. */
export function AugmentedSamples({ preview, pending }: { preview: Preview | null; pending: boolean }) {
  const images = useMemo(() => {
    if (!preview) return [];
    const area = preview.size * preview.size;
    return preview.classes.map((label, s) => ({
      label,
      draws: Array.from({ length: preview.variants }, (_, v) => preview.pixels.subarray((s * preview.variants + v) * area, (s * preview.variants + v + 1) * area)),
    }));
  }, [preview]);

  return (
    <figure aria-label="Augmented samples" aria-busy={pending} data-preview-id={preview?.id ?? 0} className="samples">
      <figcaption>
        Augmented samples: the first {PREVIEW_COUNT} sample images, {PREVIEW_VARIANTS} random draws each, made by the training worker
        exactly as training makes them (a fresh draw every epoch){pending ? ' — updating…' : '.'}
      </figcaption>
      {preview && (
        <ul className="augmented__grid">
          {images.map((image, s) => (
            <li key={s}>
              <span className="samples__label">{image.label}</span>
              <div className="augmented__row">
                {image.draws.map((pixels, v) => (
                  <GreyImage key={v} pixels={pixels} size={preview.size} name={`${image.label} ${s + 1}: augmentation ${v + 1}`} />
                ))}
              </div>
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}
