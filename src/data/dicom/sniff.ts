/**
 * Is it DICOM? A Part 10 file says so with `DICM` after its 128-byte preamble; an old ACR-NEMA style file has no
 * preamble and starts with its first data element. Names help (`.dcm`), but hospital exports are often named by
 * their UID (`1.2.840.113619.2.55.3.604688119`) or not at all, so the bytes decide.
 */
import { DICOM_EXTENSIONS, extensionOf } from '../paths';

/** True when the name says DICOM (`.dcm`, `.dicom`, `.dic`). */
export function hasDicomExtension(fileName: string): boolean {
  return DICOM_EXTENSIONS.includes(extensionOf(fileName));
}

/** True when the Part 10 marker `DICM` follows the 128-byte preamble. */
export function hasDicmMarker(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d
  );
}

const VALUE_REPRESENTATIONS = new Set(
  'AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

/**
 * How a preamble-less data set is encoded, judged from its first element: `explicit` when a value representation
 * follows the tag, `implicit` when a plausible 32-bit length does; null when it does not start like a data set.
 * Only groups 0x0002 to 0x0028 (meta, identification, patient, acquisition, image) are taken as a start.
 */
export function bareDataSetEncoding(bytes: Uint8Array): 'explicit' | 'implicit' | null {
  if (bytes.length < 16) return null;
  const group = bytes[0] | (bytes[1] << 8);
  if (group < 0x0002 || group > 0x0028 || group % 2 !== 0) return null;
  const vr = String.fromCharCode(bytes[4], bytes[5]);
  if (VALUE_REPRESENTATIONS.has(vr)) return 'explicit';
  const length = (bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24)) >>> 0;
  return length > 0 && length < 1024 && length % 2 === 0 && length + 8 <= bytes.length ? 'implicit' : null;
}

/** True when the bytes are DICOM, Part 10 or bare. */
export function isDicom(bytes: Uint8Array): boolean {
  return hasDicmMarker(bytes) || bareDataSetEncoding(bytes) !== null;
}
