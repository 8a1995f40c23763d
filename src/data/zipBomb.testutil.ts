import CRC32 from 'crc-32';
import { constants, deflateRawSync } from 'node:zlib';

/**
 * A zip whose one entry, `name`, inflates to `size` bytes of spaces (a multiple of 1 MiB), written in about 1 KiB
 * per MiB: one deflate block of 1 MiB (a full flush, so it stands alone) repeated, then an empty final block.
 * Its sizes and CRC-32 are true: a reader that inflated it all would find nothing wrong but the size.
 */
export function zipBomb(name: string, size: number): Uint8Array {
  const chunk = Buffer.alloc(1024 ** 2, 0x20);
  if (size % chunk.length !== 0) throw new Error('zipBomb: size must be a multiple of 1 MiB');
  const block = deflateRawSync(chunk, { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const count = size / chunk.length;
  let crc = 0;
  for (let i = 0; i < count; i++) crc = CRC32.buf(chunk, crc);
  const data = Buffer.concat([...Array.from({ length: count }, () => block), Buffer.from([0x03, 0x00])]);
  const fileName = Buffer.from(name);
  // The fields local header and central directory share, from 'version needed' on; the central one has 2 bytes more before.
  const shared = (header: Buffer, at: number) => {
    header.writeUInt16LE(20, at);
    header.writeUInt16LE(8, at + 4);
    header.writeUInt16LE(0x21, at + 8);
    header.writeInt32LE(crc, at + 10);
    header.writeUInt32LE(data.length, at + 14);
    header.writeUInt32LE(size, at + 18);
    header.writeUInt16LE(fileName.length, at + 22);
    return header;
  };
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  shared(local, 4);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  shared(central, 6);
  const centralAt = local.length + fileName.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(centralAt, 16);
  return new Uint8Array(Buffer.concat([local, fileName, data, central, fileName, end]));
}
