import { describe, expect, it } from 'vitest';
import { decoderTransferables, type FromDecoder, type ToDecoder } from './decodeProtocol';

function allMessages(): (ToDecoder | FromDecoder)[] {
  return [
    { type: 'decode', id: 7, blob: new Blob([new Uint8Array([1, 2, 3])]), size: 150 },
    {
      type: 'decode',
      id: 9,
      size: 150,
      zip: {
        archive: new Blob([new Uint8Array(64)]),
        offset: 0,
        method: 8,
        compressedSize: 2,
        size: 3,
        crc32: 0x12345678,
        path: 'train/a/1.jpeg',
        maxEntryBytes: 1024,
      },
    },
    {
      type: 'decoded',
      id: 7,
      pixels: Uint8Array.from([9, 8, 7]),
      sourceWidth: 1500,
      sourceHeight: 1200,
      bytesRead: 3,
      readMs: 0.5,
      fileCrc32: 1,
      pixelHash: 'ab',
    },
    { type: 'decodeFailed', id: 8, message: 'not an image' },
    { type: 'decodeFailed', id: 10, message: 'it inflates to over 256 MiB', skipReason: 'too-large' },
  ];
}

describe('decode protocol messages', () => {
  it.each(allMessages().map((m, i) => [`${i}: ${m.type}`, i] as const))(
    '%s survives a transfer-style structured clone',
    (_label, index) => {
      const original = allMessages()[index];
      const transfer = decoderTransferables(original);
      const copy = structuredClone(original, { transfer });
      expect(copy.type).toBe(original.type);
      expect(copy.id).toBe(original.id);
      if (copy.type === 'decoded') expect(Array.from(copy.pixels)).toEqual([9, 8, 7]);
      for (const buffer of transfer) expect((buffer as ArrayBuffer).byteLength).toBe(0);
    },
  );

  it('transfers decoded pixels and nothing else', () => {
    const kinds = allMessages().map((m) => decoderTransferables(m).length);
    expect(kinds).toEqual([0, 0, 1, 0, 0]);
  });
});
