/** The size a JPEG is decoded at before the canvas squashes it to the model's (data/decode.worker.ts). */
import type { SourceSize } from './imageHeader';

/**
 * The size to ask ImageDecoder for so that the JPEG comes out at the smallest DCT scale (n/8) whose shorter side still
 * covers `size`; null when the stored image is no larger (decoded whole). Chrome's decoder takes the numerator as
 * floor(8 x desired / stored): asking for `size` itself decoded a 224-px film at 140 px and a 828-px one at 104, which
 * the canvas then enlarged, softer than the film (docs/benchmarks.md, "The JPEG decode scale").
 */
export function jpegDecodeSize(source: SourceSize, size: number): { width: number; height: number } | null {
  const shorter = Math.min(source.width, source.height);
  if (!(shorter > size)) return null;
  const eighths = Math.min(8, Math.ceil((8 * size) / shorter));
  return { width: Math.ceil((source.width * eighths) / 8), height: Math.ceil((source.height * eighths) / 8) };
}
