/**
 * The lookup tables a DICOM image may carry (PS3.3 C.11): the Modality LUT Sequence, the VOI LUT Sequence and the
 * palette of a PALETTE COLOR image. Each is a descriptor (entries, first value mapped, bits an entry) and a table,
 * read only when both lie inside the file and agree; else the image goes on without it (or, for a palette, is
 * refused by the caller).
 */
import type { DataSet } from './dicomParser';
import { inBounds } from './values';

export interface Lut {
  /** The first input value the table maps; values below map to its first entry, above to its last. */
  first: number;
  /** Bits of each entry. */
  bits: number;
  data: Uint16Array;
}

/**
 * The table of `descriptorTag` and `dataTag` in `item`. `signed`: the image's Pixel Representation, which says how
 * to read the first value mapped when the descriptor's VR is not written (implicit VR).
 */
export function readLut(item: DataSet, descriptorTag: string, dataTag: string, signed: boolean): Lut | null {
  const descriptor = inBounds(item, descriptorTag);
  const data = inBounds(item, dataTag);
  if (!descriptor || descriptor.length < 6 || !data) return null;
  const entries = item.uint16(descriptorTag, 0) || 65536;
  const rawFirst = item.uint16(descriptorTag, 1)!;
  const first =
    descriptor.vr === 'SS' || (descriptor.vr !== 'US' && signed && rawFirst >= 32768) ? rawFirst - 65536 : rawFirst;
  const bits = item.uint16(descriptorTag, 2)!;
  if (bits < 1 || bits > 16) return null;
  // Entries are 16-bit words; a few writers pack 8-bit entries into bytes.
  const bytesEach = data.length >= entries * 2 ? 2 : 1;
  if (data.length < entries * bytesEach) return null;
  const table = new Uint16Array(entries);
  for (let i = 0; i < entries; i++) {
    table[i] =
      bytesEach === 2
        ? item.byteArrayParser.readUint16(item.byteArray, data.dataOffset + 2 * i)
        : item.byteArray[data.dataOffset + i];
  }
  return { first, bits, data: table };
}

/** The first item of a sequence, or null. */
function firstItem(dataSet: DataSet, tag: string): DataSet | null {
  return dataSet.elements[tag]?.items?.[0]?.dataSet ?? null;
}

/** The first VOI LUT of the VOI LUT Sequence (0028,3010). */
export function voiLutOf(dataSet: DataSet, signed: boolean): Lut | null {
  const item = firstItem(dataSet, 'x00283010');
  return item ? readLut(item, 'x00283002', 'x00283006', signed) : null;
}

/** The Modality LUT Sequence's table (0028,3000), which stands in for Rescale Slope and Intercept. */
export function modalityLutOf(dataSet: DataSet, signed: boolean): Lut | null {
  const item = firstItem(dataSet, 'x00283000');
  return item ? readLut(item, 'x00283002', 'x00283006', signed) : null;
}

/** A table's entry for `value`, clamped to its ends. */
export function lookUp(lut: Lut, value: number): number {
  return lut.data[Math.min(lut.data.length - 1, Math.max(0, Math.round(value - lut.first)))];
}
