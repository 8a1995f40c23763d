/**
 * DICOM files written by the tests (dcmjs), in every transfer syntax the decoder reads. Compressed pixels come
 * from dicomPixelEncoders.testutil.ts; deflate is done here (zlib).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
// @ts-expect-error dcmjs ships no types; the little of it used here is typed below.
import dcmjs from 'dcmjs';
import { encodeJpegLossless, encodeRle, encodeWithCodec } from './dicomPixelEncoders.testutil';

export { canWriteJpeg } from './dicomPixelEncoders.testutil';

const { DicomDict, DicomMetaDictionary } = (dcmjs as unknown as { data: DcmjsData }).data;

interface DcmjsData {
  DicomDict: new (meta: unknown) => { dict: unknown; write(): ArrayBuffer };
  DicomMetaDictionary: { denaturalizeDataset(dataset: Record<string, unknown>): unknown };
}

export type Encoding =
  | 'implicit'
  | 'explicit'
  | 'deflated'
  | 'rle'
  | 'jpeg-ls'
  | 'jpeg-2000'
  | 'jpeg-baseline'
  | 'jpeg-lossless'
  | 'jpeg-lossless-any'
  | 'jpeg-extended';

const SYNTAX: Record<Encoding, string> = {
  implicit: '1.2.840.10008.1.2',
  explicit: '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  rle: '1.2.840.10008.1.2.5',
  'jpeg-ls': '1.2.840.10008.1.2.4.80',
  'jpeg-2000': '1.2.840.10008.1.2.4.90',
  'jpeg-baseline': '1.2.840.10008.1.2.4.50',
  // dcmjs-codecs' encoder (DCMTK's IJG): process 14 with predictor 1, and with predictor 6 under the syntax for any.
  'jpeg-lossless': '1.2.840.10008.1.2.4.70',
  'jpeg-lossless-any': '1.2.840.10008.1.2.4.57',
  // DCMTK's dcmcjpeg +ee: 8 or 12 bits, as the data has.
  'jpeg-extended': '1.2.840.10008.1.2.4.51',
};

export interface DicomSpec {
  width: number;
  height: number;
  /** Stored values, frame after frame (signed values for a signed image). */
  values: ArrayLike<number>;
  frames?: number;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  signed?: boolean;
  photometric?: string;
  samplesPerPixel?: number;
  slope?: number;
  intercept?: number;
  windowCenter?: number;
  windowWidth?: number;
  patientId?: string;
  modality?: string;
  viewPosition?: string;
  encoding?: Encoding;
  /** A transfer syntax UID to name instead of the encoding's (for unsupported-syntax tests). */
  transferSyntax?: string;
  /** Without the 128-byte preamble and meta information: a bare data set (implicit or explicit only). */
  bare?: boolean;
  /** Leave the pixel data out. */
  noPixels?: boolean;
  /** More attributes, dcmjs-naturalised. */
  extra?: Record<string, unknown>;
}

/** DCMTK's command-line tools, where installed (Debian's dcmtk; CI installs it): JPEG extended is written by them. */
export const hasDcmtk = ['dcmcjpeg', 'dcmdjpeg'].every(
  (tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0,
);

/** A DCMTK tool run on a file: `args` before the input and output names. */
function dcmtk(tool: string, args: string[], file: Uint8Array): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'dcmtk-'));
  try {
    writeFileSync(join(dir, 'in.dcm'), file);
    const run = spawnSync(tool, [...args, join(dir, 'in.dcm'), join(dir, 'out.dcm')]);
    if (run.status !== 0) throw new Error(`${tool} failed: ${run.stderr}`);
    return new Uint8Array(readFileSync(join(dir, 'out.dcm')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The file decompressed by DCMTK's dcmdjpeg (explicit VR little endian): the reference for JPEG decoding. */
export function decompressWithDcmtk(file: Uint8Array): Uint8Array {
  return dcmtk('dcmdjpeg', ['+te'], file);
}

/** A DICOM file's bytes. */
export async function writeDicom(spec: DicomSpec): Promise<Uint8Array> {
  const encoding = spec.encoding ?? 'explicit';
  // +ee: extended sequential (process 2/4), 8 or 12 bits as the data has; +q 95: quality.
  if (encoding === 'jpeg-extended')
    return dcmtk('dcmcjpeg', ['+ee', '+q', '95'], await writeDicom({ ...spec, encoding: 'explicit' }));
  const bitsAllocated = spec.bitsAllocated ?? 16;
  const bitsStored = spec.bitsStored ?? bitsAllocated;
  const frames = spec.frames ?? 1;
  const pixels = spec.width * spec.height;
  const raw = rawFrames(spec.values, bitsAllocated, bitsStored);
  let pixelData: ArrayBuffer[] | undefined;
  if (!spec.noPixels) {
    const samples = spec.samplesPerPixel ?? 1;
    // YBR_FULL_422 keeps two samples a pixel on average; JPEG's encoder takes RGB and subsamples itself.
    const stored = spec.photometric === 'YBR_FULL_422' && encoding !== 'jpeg-baseline' ? 2 : samples;
    const frameBytes = pixels * stored * (bitsAllocated / 8);
    const frameOf = (f: number) => raw.subarray(f * frameBytes, (f + 1) * frameBytes);
    const encode = async (f: number): Promise<Uint8Array> => {
      switch (encoding) {
        case 'rle':
          return encodeRle(frameOf(f), pixels, bitsAllocated / 8, samples, spec.extra?.PlanarConfiguration === 1);
        case 'jpeg-ls':
        case 'jpeg-2000':
        case 'jpeg-baseline':
          return encodeWithCodec(encoding, frameOf(f), spec, bitsStored);
        case 'jpeg-lossless':
        case 'jpeg-lossless-any':
          return encodeJpegLossless(frameOf(f), spec, bitsAllocated, bitsStored, encoding === 'jpeg-lossless' ? 1 : 6);
        default:
          return frameOf(f);
      }
    };
    const native = ['implicit', 'explicit', 'deflated'].includes(encoding);
    pixelData = native ? [toBuffer(raw)] : [];
    if (!native) for (let f = 0; f < frames; f++) pixelData.push(toBuffer(await encode(f)));
  }
  const dataset: Record<string, unknown> = {
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.1.1',
    SOPInstanceUID: '1.2.826.0.1.3680043.2.1125.1',
    Modality: spec.modality ?? 'DX',
    ...(spec.viewPosition ? { ViewPosition: spec.viewPosition } : {}),
    ...(spec.patientId !== undefined ? { PatientID: spec.patientId } : {}),
    Rows: spec.height,
    Columns: spec.width,
    SamplesPerPixel: spec.samplesPerPixel ?? 1,
    PhotometricInterpretation: spec.photometric ?? 'MONOCHROME2',
    BitsAllocated: bitsAllocated,
    BitsStored: bitsStored,
    HighBit: bitsStored - 1,
    PixelRepresentation: spec.signed ? 1 : 0,
    ...(frames > 1 ? { NumberOfFrames: String(frames) } : {}),
    ...(spec.slope !== undefined
      ? { RescaleSlope: String(spec.slope), RescaleIntercept: String(spec.intercept ?? 0) }
      : {}),
    ...(spec.windowCenter !== undefined
      ? { WindowCenter: String(spec.windowCenter), WindowWidth: String(spec.windowWidth) }
      : {}),
    ...spec.extra,
    ...(pixelData
      ? { PixelData: pixelData, _vrMap: { PixelData: bitsAllocated === 16 && pixelData.length === 1 ? 'OW' : 'OB' } }
      : {}),
  };
  const syntax = spec.transferSyntax ?? SYNTAX[encoding];
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    // dcmjs writes a deflated body as explicit little endian: it is deflated below.
    TransferSyntaxUID: encoding === 'deflated' ? SYNTAX.explicit : syntax,
    ImplementationClassUID: '1.2.826.0.1.3680043.2.1125.99',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  let file: Uint8Array = new Uint8Array(dict.write());
  if (encoding === 'deflated') file = deflateBody(file, syntax);
  if (spec.bare) file = file.subarray(bodyStart(file));
  return file;
}

/** Where the data set starts, after the preamble, `DICM` and the meta group. */
export function bodyStart(file: Uint8Array): number {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  // (0002,0000) UL 4 <group length>: the first meta element.
  return 132 + 12 + view.getUint32(140, true);
}

/** The file with its meta's transfer syntax replaced and its body deflated. */
function deflateBody(file: Uint8Array, syntax: string): Uint8Array {
  const start = bodyStart(file);
  const padded = syntax.length % 2 ? `${syntax}\0` : syntax;
  const old = SYNTAX.explicit.length % 2 ? `${SYNTAX.explicit}\0` : SYNTAX.explicit;
  const header = Buffer.from(file.subarray(0, start))
    .toString('latin1')
    .replace(
      `\x10\x00UI${String.fromCharCode(old.length, 0)}${old}`,
      `\x10\x00UI${String.fromCharCode(padded.length, 0)}${padded}`,
    );
  const headerBytes = Buffer.from(header, 'latin1');
  headerBytes.writeUInt32LE(headerBytes.length - 144, 140);
  return new Uint8Array(Buffer.concat([headerBytes, deflateRawSync(file.subarray(start))]));
}

function rawFrames(values: ArrayLike<number>, bitsAllocated: 8 | 16, bitsStored: number): Uint8Array {
  const mask = 2 ** bitsStored - 1;
  if (bitsAllocated === 8) return Uint8Array.from(values, (v) => v & mask);
  const words = Uint16Array.from(values, (v) => v & mask);
  return new Uint8Array(words.buffer);
}

function toBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}
