/**
 * `npm run make:dicom -- [--out DIR] [--count 80] [--side 2048] [--encoding explicit]`: a folder of generated
 * chest-film-sized DICOM files for `bench:ingest` (12 bits stored in 16, MONOCHROME2 with a window, a few
 * MONOCHROME1), `train/NORMAL` and `train/PNEUMONIA`, `val/` too. Written with dcmjs (the tests' writer); not medical
 * data. `--encoding` takes the tests' encodings: explicit VR little endian by default, `jpeg-extended` for 12-bit
 * JPEG (DCMTK's dcmcjpeg), `jpeg-lossless`, `rle`, `jpeg-ls`, `jpeg-2000`, ….
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeDicom, type Encoding } from '../src/data/dicom/dicomFiles.testutil';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(tmpdir(), 'xray-dicom') },
    count: { type: 'string', default: '80' },
    side: { type: 'string', default: '2048' },
    encoding: { type: 'string', default: 'explicit' },
  },
});
const count = Number(values.count);
const side = Number(values.side);

/** A smooth 12-bit picture (a bright disc on a ramp), shifted a little by `seed`, so files differ. */
function picture(seed: number, bright: boolean): Uint16Array {
  const values = new Uint16Array(side * side);
  const cx = side / 2 + (seed % 17) * 4;
  const cy = side / 2 + (seed % 13) * 4;
  const r2 = (side / 3) ** 2;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < r2;
      values[y * side + x] = Math.min(
        4095,
        ((x + y) % 1024) + (inside ? (bright ? 2600 : 1400) : 300) + ((x * 7 + y * 13 + seed) & 63),
      );
    }
  }
  return values;
}

for (let i = 0; i < count; i++) {
  const split = i % 8 === 7 ? 'val' : 'train';
  const className = i % 2 ? 'PNEUMONIA' : 'NORMAL';
  const mono1 = i % 10 === 3;
  const stored = picture(i, i % 2 === 1);
  const bytes = await writeDicom({
    width: side,
    height: side,
    values: mono1 ? stored.map((v) => 4095 - v) : stored,
    bitsStored: 12,
    photometric: mono1 ? 'MONOCHROME1' : 'MONOCHROME2',
    windowCenter: 2048,
    windowWidth: 4096,
    patientId: `GEN-${i >> 1}`,
    modality: 'CR',
    encoding: values.encoding as Encoding,
  });
  const dir = join(values.out, split, className);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `gen-${String(i).padStart(4, '0')}.dcm`), bytes);
}
console.log(`${count} DICOM files of ${side} x ${side} (12 bits, ${values.encoding}) in ${values.out}`);
