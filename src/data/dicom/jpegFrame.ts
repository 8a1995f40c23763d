/**
 * The frame header of a JPEG or JPEG-LS stream (SOFn, SOF55: sample precision, size, components) and the size of a
 * JPEG 2000 codestream (SIZ). Read before a codec sees the stream, to pick the codec (8-bit or 12-bit JPEG) and to
 * refuse a stream whose size is not the DICOM header's: the 12-bit codec writes into a buffer sized from the DICOM
 * header, and the others allocate, and spend time on, whatever size their stream claims.
 */

export interface JpegFrameHeader {
  /** The SOF marker's low nibble: 0 baseline, 1 extended, 2 progressive, 3 lossless, …; 55 for JPEG-LS. */
  process: number;
  precision: number;
  width: number;
  height: number;
  components: number;
}

/** SOF0..SOF15 less DHT (C4), JPG (C8) and DAC (CC), which share the range; JPEG-LS's SOF55 (F7). */
function isFrameMarker(marker: number): boolean {
  return (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7;
}

/**
 * The first frame header, or null when the bytes are not a JPEG stream or end before one. Walks marker segments by
 * their lengths from SOI: each step moves forward, so the walk ends within the bytes.
 */
export function readJpegFrameHeader(bytes: Uint8Array): JpegFrameHeader | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    // Fill bytes (FF FF …) before a marker.
    if (marker === 0xff) {
      at++;
      continue;
    }
    // Standalone markers carry no length: RSTn, TEM, SOI.
    if ((marker >= 0xd0 && marker <= 0xd8) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // EOI or SOS before any frame header
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2) return null;
    if (isFrameMarker(marker)) {
      if (length < 8 || at + 2 + length > bytes.length) return null;
      const s = at + 4;
      return {
        process: marker === 0xf7 ? 55 : marker & 0x0f,
        precision: bytes[s],
        height: (bytes[s + 1] << 8) | bytes[s + 2],
        width: (bytes[s + 3] << 8) | bytes[s + 4],
        components: bytes[s + 5],
      };
    }
    at += 2 + length;
  }
  return null;
}

/**
 * The image size of a JPEG 2000 codestream (SOC, then SIZ: PS3.5 A.4.4 / ISO 15444-1 A.5.1), or null when the bytes
 * do not start with one (a JP2 file's boxes, say: left to the codec).
 */
export function readJ2kSize(bytes: Uint8Array): { width: number; height: number; components: number } | null {
  if (bytes.length < 42 || bytes[0] !== 0xff || bytes[1] !== 0x4f || bytes[2] !== 0xff || bytes[3] !== 0x51)
    return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Lsiz (2), Rsiz (2), Xsiz, Ysiz, XOsiz, YOsiz (4 each), XTsiz, YTsiz, XTOsiz, YTOsiz (4 each), Csiz (2).
  const width = view.getUint32(8) - view.getUint32(16);
  const height = view.getUint32(12) - view.getUint32(20);
  return { width, height, components: view.getUint16(40) };
}
