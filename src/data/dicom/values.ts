/**
 * Values of a DICOM data set read with every length checked against the file: dicom-parser's own string readers
 * walk the declared length, and a length of 2^32 - 2 would take them minutes.
 */
import type { DataSet, Element } from './dicomParser';

export const UNDEFINED_LENGTH = 0xffffffff;

/** An element whose whole value lies inside the file, or null. */
export function inBounds(dataSet: DataSet, tag: string): Element | null {
  const element = dataSet.elements[tag];
  if (!element || element.length === UNDEFINED_LENGTH || element.dataOffset + element.length > dataSet.byteArray.length)
    return null;
  return element;
}

/**
 * A short string value (its first value if several), or null when absent, too long or out of bounds.
 * dicom-parser's own string readers walk the declared length: a length of 2^32 - 2 would take minutes.
 */
export function textOf(dataSet: DataSet, tag: string, maxLength = 64): string | null {
  const element = inBounds(dataSet, tag);
  if (!element || element.length === 0 || element.length > maxLength) return null;
  const raw = dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
  let text = '';
  for (const byte of raw) {
    if (byte === 0) break;
    text += String.fromCharCode(byte);
  }
  const first = text.split('\\')[0].trim();
  return first === '' ? null : first;
}

export function numberOf(dataSet: DataSet, tag: string): number | null {
  const text = textOf(dataSet, tag);
  if (text === null) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

export function uint16Of(dataSet: DataSet, tag: string): number | null {
  const element = inBounds(dataSet, tag);
  return element && element.length >= 2 ? (dataSet.uint16(tag) ?? null) : null;
}

/** Tag values are shown as text only, and only printable ones. */
export function printable(value: string | null): string {
  return (value ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 32);
}
