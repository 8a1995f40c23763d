import { memo, useContext, useEffect, useMemo, useRef } from 'react';
import { DisplayWindowContext, DisplayWindowControl } from './DisplayWindowControl';
import { windowTable } from './displayWindow';
import type { DicomTags } from '../../data/dicom/tags';
import { dicomTagsText } from '../dataset/dicomText';

interface Sample {
  pixels: Uint8Array;
  label: string;
  path: string;
  dicom?: DicomTags;
}

/** A 4 x 6 grid of training images, each titled with its label (as the Keras tutorial shows). */
export const SampleGrid = memo(function SampleGrid({ samples, size }: { samples: Sample[]; size: number }) {
  return (
    <figure aria-label="Sample images" className="samples">
      <figcaption>
        Sample images ({samples.length}), as the model sees them: grey, {size} × {size}
      </figcaption>
      <DisplayWindowControl name="Display window: samples" />
      <ul className="samples__grid">
        {samples.map((s, i) => (
          <li key={`${s.path}:${i}`}>
            <GreyImage pixels={s.pixels} size={size} name={`${s.label}: ${s.path}`} />
            <span className="samples__label">{s.label}</span>
            {s.dicom && (
              <span className="samples__tags" data-testid="dicom-tags">
                {dicomTagsText(s.dicom)}
              </span>
            )}
          </li>
        ))}
      </ul>
    </figure>
  );
});

/** Draws one-byte-a-pixel grey data on a canvas, through the page's display window. */
export function GreyImage({ pixels, size, name }: { pixels: Uint8Array; size: number; name: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { window: displayWindow } = useContext(DisplayWindowContext);
  const shown = useMemo(() => windowTable(displayWindow), [displayWindow]);
  useEffect(() => {
    const canvas = ref.current;
    const context = canvas?.getContext('2d');
    if (!canvas || !context || pixels.length !== size * size) return;
    const image = context.createImageData(size, size);
    for (let i = 0; i < pixels.length; i++) {
      const v = shown[pixels[i]];
      image.data[i * 4] = v;
      image.data[i * 4 + 1] = v;
      image.data[i * 4 + 2] = v;
      image.data[i * 4 + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }, [pixels, size, shown]);
  return <canvas ref={ref} width={size} height={size} role="img" aria-label={name} title={name} />;
}
