import CRC32 from 'crc-32';
import { deflateRawSync } from 'node:zlib';

/** One entry of a hand-made zip (tests only): raw name bytes and sizes that may lie, as a hostile zip's do. */
export interface RawZipEntry {
  /** A string is written as UTF-8; bytes as they are (e.g. CP437 or invalid UTF-8). */
  name: string | Uint8Array;
  content?: Uint8Array;
  /** Deflate the content (default: stored). */
  deflate?: boolean;
  /** The uncompressed size written in the headers (default: the true one). */
  declaredSize?: number;
  /** Sets general purpose bit 11 (the name is UTF-8). Default: true for a string name. */
  utf8Flag?: boolean;
}

export function crc32(data: Uint8Array): number {
  return CRC32.buf(data) >>> 0;
}

/**
 * Builds a zip without zip.js, so a test can write what zip.js refuses to (lying sizes, raw name bytes)
 * and tens of thousands of entries in milliseconds. No Zip64: under 65,535 entries and 4 GiB only.
 */
export function buildRawZip(entries: RawZipEntry[]): Uint8Array<ArrayBuffer> {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = typeof entry.name === 'string' ? new TextEncoder().encode(entry.name) : entry.name;
    const content = entry.content ?? new Uint8Array(0);
    const data = entry.deflate ? new Uint8Array(deflateRawSync(content)) : content;
    const utf8 = entry.utf8Flag ?? typeof entry.name === 'string';
    const fields = {
      flags: utf8 ? 0x0800 : 0,
      method: entry.deflate ? 8 : 0,
      crc: crc32(content),
      compressed: data.length,
      uncompressed: entry.declaredSize ?? content.length,
    };
    const local = new Uint8Array(30 + name.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, fields.flags, true);
    lv.setUint16(8, fields.method, true);
    lv.setUint32(14, fields.crc, true);
    lv.setUint32(18, fields.compressed, true);
    lv.setUint32(22, fields.uncompressed, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    local.set(data, 30 + name.length);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, fields.flags, true);
    cv.setUint16(10, fields.method, true);
    cv.setUint32(16, fields.crc, true);
    cv.setUint32(20, fields.compressed, true);
    cv.setUint32(24, fields.uncompressed, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const centralSize = centrals.reduce((sum, c) => sum + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + centralSize + 22);
  let at = 0;
  for (const part of [...locals, ...centrals, end]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
