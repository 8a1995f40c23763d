import { useMemo } from 'react';
import { heatmapRgba } from './heatmap';
import { GreyImage } from '../common/SampleGrid';

interface Props {
  pixels: Uint8Array;
  size: number;
  /** The Grad-CAM map (0..1), `side` x `side`; null when the model gave none. */
  map: Float32Array | null;
  side: number;
  /** 0..1: how strongly the heat covers the image. */
  opacity: number;
  show: boolean;
  /** What the image is, and the class the heat is evidence for. */
  name: string;
  className: string;
  /** Displayed side in CSS px. */
  display: number;
}

/**
 * An image as the model saw it with its Grad-CAM map over it. The map is drawn at its own resolution and
 * scaled by the browser (smoothly), so a 16 x 16 map covers a 150 px image without a costly upsampling here.
 */
export function HeatmapImage({ pixels, size, map, side, opacity, show, name, className, display }: Props) {
  const heat = useMemo(() => (map ? rgbaDataUrl(heatmapRgba(map, side, 1), side) : null), [map, side]);
  return (
    <span className="heatmap" style={{ width: display, height: display }}>
      <GreyImage pixels={pixels} size={size} name={name} />
      {heat && show && (
        <img
          src={heat}
          alt={`Grad-CAM: where the model found evidence for ${className} in ${name}`}
          style={{ opacity }}
          width={display}
          height={display}
        />
      )}
    </span>
  );
}

function rgbaDataUrl(rgba: Uint8ClampedArray, side: number): string | null {
  if (typeof document === 'undefined') return null;
  const canvas = document.createElement('canvas');
  canvas.width = side;
  canvas.height = side;
  const context = canvas.getContext('2d');
  if (!context) return null;
  const image = context.createImageData(side, side);
  image.data.set(rgba);
  context.putImageData(image, 0, 0);
  return canvas.toDataURL('image/png');
}
