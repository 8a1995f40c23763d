/**
 * What a DICOM image's samples are (PS3.3 C.7.6.3.1.2): grey (MONOCHROME1/2), a palette index (PALETTE COLOR) or
 * three colour samples (RGB, YBR_*). Colour images are turned into grey later (colour.ts); the few photometric
 * interpretations that cannot be are refused here, named.
 */
import type { DataSet } from './dicomParser';
import { readLut, type Lut } from './luts';
import { DicomError } from './dicomError';
import type { TransferSyntax } from './transferSyntaxes';
import { uint16Of } from './values';

export type Photometric =
  | 'MONOCHROME1'
  | 'MONOCHROME2'
  | 'PALETTE COLOR'
  | 'RGB'
  | 'YBR_FULL'
  | 'YBR_FULL_422'
  | 'YBR_PARTIAL_422'
  | 'YBR_PARTIAL_420'
  | 'YBR_ICT'
  | 'YBR_RCT';

export interface Palette {
  red: Lut;
  green: Lut;
  blue: Lut;
}

export interface SampleModel {
  photometric: Photometric;
  samplesPerPixel: 1 | 3;
  /** Planar Configuration 1: all reds, then all greens, then all blues (native data only). */
  planar: boolean;
  palette: Palette | null;
}

const GREY = new Set(['MONOCHROME1', 'MONOCHROME2']);
const COLOUR = new Set(['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_PARTIAL_422', 'YBR_PARTIAL_420', 'YBR_ICT', 'YBR_RCT']);
/** Chroma-subsampled or transformed colour only a compressed stream carries: its codec gives RGB back. */
const COMPRESSED_ONLY = new Set(['YBR_PARTIAL_422', 'YBR_PARTIAL_420', 'YBR_ICT', 'YBR_RCT']);

/** The sample model of a data set whose photometric interpretation is `photometric` (printable, upper case). */
export function sampleModelOf(dataSet: DataSet, photometric: string, syntax: TransferSyntax): SampleModel {
  const samples = uint16Of(dataSet, 'x00280002') ?? 1;
  const refuse = (why: string) => {
    throw new DicomError(`DICOM: ${photometric || 'unnamed'} image with ${samples} samples a pixel ${why}`);
  };
  if (GREY.has(photometric) || photometric === 'PALETTE COLOR') {
    if (samples !== 1) refuse('is not valid (1 sample is)');
  } else if (COLOUR.has(photometric)) {
    if (samples !== 3) refuse('is not valid (3 samples are)');
    if (COMPRESSED_ONLY.has(photometric) && syntax.codec === 'native') refuse('cannot be uncompressed data');
    if (photometric === 'YBR_FULL_422' && syntax.codec !== 'native' && syntax.codec !== 'jpeg-baseline')
      refuse(`cannot be read from ${syntax.name}`);
  } else {
    refuse('cannot be turned into grey here (grey, palette, RGB and YBR can)');
  }
  const palette = photometric === 'PALETTE COLOR' ? paletteOf(dataSet) : null;
  return {
    photometric: photometric as Photometric,
    samplesPerPixel: samples as 1 | 3,
    planar: samples === 3 && uint16Of(dataSet, 'x00280006') === 1,
    palette,
  };
}

/** The red, green and blue tables of a PALETTE COLOR image; refused when one is missing or segmented. */
function paletteOf(dataSet: DataSet): Palette {
  const [red, green, blue] = ['1101', '1102', '1103'].map((at, i) =>
    // Descriptors (0028,1101..1103), data (0028,1201..1203); the first value mapped is read unsigned (PS3.3 C.7.6.3.1.5).
    readLut(dataSet, `x0028${at}`, `x002812${String(i + 1).padStart(2, '0')}`, false),
  );
  if (!red || !green || !blue)
    throw new DicomError('DICOM: PALETTE COLOR image without a complete palette (segmented palettes are not read)');
  return { red, green, blue };
}
