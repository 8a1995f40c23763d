/**
 * DICOM for `npm run fuzz`: files the tests' writer makes (dcmjs, and DCMTK's dcmcjpeg for 12-bit JPEG; each transfer
 * syntax the decoder reads, a bare data set, several frames, colour and palette images, a Modality LUT), mutated,
 * through the decode worker's own decodeDicom. The mutated length fields are those of the data set's top-level
 * elements, found by walking it as the standard lays it out.
 */
import { decodeDicom } from '../../src/data/dicom/decodeDicom';
import { hasDcmtk, writeDicom, type DicomSpec, type Encoding } from '../../src/data/dicom/dicomFiles.testutil';
import type { Field, Seed } from './mutate';

/** Explicit VRs whose length is 4 bytes after 2 reserved ones (PS3.5 7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** The length fields of the top-level elements from `start`: each a lie the decoder must survive. */
export function dicomLengthFields(bytes: Uint8Array, start: number, explicit: boolean): Field[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Field[] = [];
  let offset = start;
  while (offset + 8 <= bytes.length && fields.length < 200) {
    const group = view.getUint16(offset, true);
    // The file meta group (0002) is explicit VR whatever the data set's syntax.
    const vr = explicit || group === 0x0002 ? String.fromCharCode(bytes[offset + 4], bytes[offset + 5]) : null;
    let length: number;
    if (vr === null) {
      fields.push({ offset: offset + 4, width: 4, littleEndian: true });
      length = view.getUint32(offset + 4, true);
      offset += 8;
    } else if (LONG_VRS.has(vr)) {
      if (offset + 12 > bytes.length) break;
      fields.push({ offset: offset + 8, width: 4, littleEndian: true });
      length = view.getUint32(offset + 8, true);
      offset += 12;
    } else {
      fields.push({ offset: offset + 6, width: 2, littleEndian: true });
      length = view.getUint16(offset + 6, true);
      offset += 8;
    }
    if (length === 0xffffffff) break; // undefined length (a sequence or encapsulated pixels): stop walking here
    offset += length;
  }
  return fields;
}

function ramp(width: number, height: number, frames = 1): Uint16Array {
  return Uint16Array.from({ length: width * height * frames }, (_, i) => (i * 37) % 4096);
}

/** A 12-bit grey seed in one encoding. */
function grey12(label: string, width: number, height: number, encoding: Encoding) {
  return { label, explicit: true, spec: { width, height, values: ramp(width, height), bitsStored: 12, encoding } };
}

const SPECS: { label: string; spec: DicomSpec; explicit: boolean }[] = [
  {
    label: 'explicit, MONOCHROME1 12-bit, window',
    explicit: true,
    spec: {
      width: 12,
      height: 10,
      values: ramp(12, 10),
      bitsStored: 12,
      photometric: 'MONOCHROME1',
      slope: 2,
      intercept: -1024,
      windowCenter: 1000,
      windowWidth: 3000,
      patientId: 'P1',
    },
  },
  {
    label: 'implicit, signed 16-bit',
    explicit: false,
    spec: {
      width: 9,
      height: 7,
      values: Int16Array.from(ramp(9, 7), (v) => v - 2048),
      signed: true,
      bitsStored: 16,
      encoding: 'implicit',
    },
  },
  {
    label: 'RLE, 3 frames',
    explicit: true,
    spec: { width: 8, height: 8, values: ramp(8, 8, 3), frames: 3, bitsStored: 12, encoding: 'rle' },
  },
  grey12('deflated', 8, 6, 'deflated'),
  grey12('JPEG-LS', 10, 10, 'jpeg-ls'),
  grey12('JPEG 2000', 64, 64, 'jpeg-2000'),
  grey12('JPEG lossless (process 14 SV1)', 10, 8, 'jpeg-lossless'),
  grey12('JPEG lossless, predictor 6', 10, 8, 'jpeg-lossless-any'),
  // DCMTK's dcmcjpeg writes it; without dcmtk the seed is left out (the fuzz run says which seeds it has).
  ...(hasDcmtk
    ? [
        {
          label: 'JPEG extended 12-bit',
          explicit: true,
          spec: { width: 16, height: 16, values: ramp(16, 16), bitsStored: 12, encoding: 'jpeg-extended' as const },
        },
      ]
    : []),
  {
    label: 'RGB, RLE',
    explicit: true,
    spec: {
      width: 6,
      height: 4,
      values: Array.from({ length: 72 }, (_, i) => (i * 29) % 256),
      bitsAllocated: 8,
      samplesPerPixel: 3,
      photometric: 'RGB',
      encoding: 'rle',
    },
  },
  {
    label: 'YBR_FULL_422, native',
    explicit: true,
    spec: {
      width: 6,
      height: 4,
      values: Array.from({ length: 48 }, (_, i) => (i * 41) % 256),
      bitsAllocated: 8,
      samplesPerPixel: 3,
      photometric: 'YBR_FULL_422',
    },
  },
  {
    label: 'PALETTE COLOR',
    explicit: true,
    spec: {
      width: 6,
      height: 4,
      values: Array.from({ length: 24 }, (_, i) => i % 8),
      bitsAllocated: 8,
      photometric: 'PALETTE COLOR',
      extra: Object.fromEntries(
        ['Red', 'Green', 'Blue'].flatMap((colour, c) => [
          [`${colour}PaletteColorLookupTableDescriptor`, [8, 0, 16]],
          [`${colour}PaletteColorLookupTableData`, [Uint16Array.from({ length: 8 }, (_, i) => (i + c) * 8000).buffer]],
        ]),
      ),
    },
  },
  {
    label: 'Modality LUT Sequence',
    explicit: true,
    spec: {
      width: 6,
      height: 4,
      values: ramp(6, 4),
      bitsStored: 12,
      extra: {
        ModalityLUTSequence: [
          {
            LUTDescriptor: [16, 100, 16],
            LUTData: [Uint16Array.from({ length: 16 }, (_, i) => i * i).buffer],
            _vrMap: { LUTDescriptor: 'US', LUTData: 'OW' },
          },
        ],
      },
    },
  },
  {
    label: 'bare data set',
    explicit: false,
    spec: { width: 6, height: 6, values: ramp(6, 6), bitsStored: 12, encoding: 'implicit', bare: true },
  },
];

export async function dicomSeeds(): Promise<Seed[]> {
  return Promise.all(
    SPECS.map(async ({ label, spec, explicit }) => {
      const bytes = await writeDicom(spec);
      const part10 = bytes.length > 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM';
      return { label: `DICOM ${label}`, bytes, fields: dicomLengthFields(bytes, part10 ? 132 : 0, explicit) };
    }),
  );
}

/** What the decode worker does with the file's bytes; a refusal is a DicomError in words (the worker lists it). */
export async function decodeDicomFile(bytes: Uint8Array): Promise<string[]> {
  await decodeDicom(bytes, 16);
  return [];
}
