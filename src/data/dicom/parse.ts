/**
 * Reads a DICOM file's data set (dicom-parser) into what the pixel pipeline needs, every value checked: a DICOM
 * file is hostile input, its lengths can lie, its strings can hold markup. A file that cannot be used throws a
 * DicomError whose message says why in words, starting `DICOM:`.
 */
import { dicomParser, type DataSet, type Element } from './dicomParser';
import { bareDataSetEncoding, hasDicmMarker } from './sniff';
import { DicomError } from './dicomError';
import { modalityLutOf, voiLutOf, type Lut } from './luts';
import { sampleModelOf, type SampleModel } from './photometric';
import type { DicomTags } from './tags';
import { DEFLATED, EXPLICIT_LITTLE, IMPLICIT_LITTLE, transferSyntaxOf, type TransferSyntax } from './transferSyntaxes';
import { numberOf, printable, textOf, uint16Of, UNDEFINED_LENGTH } from './values';

export { DicomError };

export type { DicomTags };

/** A DICOM image's first frame and how to turn it into grey. */
export interface DicomImage extends SampleModel {
  transferSyntax: TransferSyntax;
  rows: number;
  columns: number;
  bitsAllocated: 8 | 16;
  bitsStored: number;
  signed: boolean;
  frames: number;
  slope: number;
  intercept: number;
  /** The Modality LUT Sequence's table: when present it maps stored values instead of slope and intercept. */
  modalityLut: Lut | null;
  /** The first window of Window Center/Width, with its VOI LUT Function. */
  window: { center: number; width: number; fn: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' } | null;
  voiLut: Lut | null;
  /** PatientID in clear: it goes no further than the decode worker, which hashes it. */
  patientId: string | null;
  tags: DicomTags;
  /** The first frame: raw samples for native data (little endian), compressed bytes otherwise. */
  frame: Uint8Array;
}

/** Largest side, and most pixels, of an image that is decoded (a lying header must not allocate gigabytes). */
export const MAX_SIDE = 16384;
export const MAX_PIXELS = 2 ** 26;
/** Largest data set a deflated file may inflate to. */
export const MAX_INFLATED_BYTES = 256 * 1024 ** 2;

const PIXEL_DATA = 'x7fe00010';

/** Parses `bytes` (Part 10, or a bare data set) and picks out the first frame. */
export async function parseDicomImage(bytes: Uint8Array): Promise<DicomImage> {
  const dataSet = await readDataSet(bytes);
  return imageOf(dataSet.dataSet, dataSet.syntax);
}

/**
 * PatientID in clear from a file's first bytes (its head is enough: group 0010 comes early); null when the bytes are
 * not DICOM or name no patient. Damage past the id does not matter here: the decode says so later.
 */
export async function readPatientId(head: Uint8Array): Promise<string | null> {
  try {
    const { dataSet } = await readDataSet(head, true);
    return textOf(dataSet, 'x00100020');
  } catch {
    return null;
  }
}

async function readDataSet(bytes: Uint8Array, partial = false): Promise<{ dataSet: DataSet; syntax: TransferSyntax }> {
  let position = 0;
  let uid: string;
  if (hasDicmMarker(bytes)) {
    const meta = attempt(() => dicomParser.readPart10Header(bytes), 'its file meta information cannot be read');
    uid = textOf(meta, 'x00020010') ?? '';
    if (!uid) throw new DicomError('DICOM: the file meta information names no transfer syntax');
    position = (meta as DataSet & { position: number }).position;
  } else {
    const encoding = bareDataSetEncoding(bytes);
    if (!encoding) throw new DicomError('DICOM: the file does not start with a DICOM data set');
    uid = encoding === 'explicit' ? EXPLICIT_LITTLE : IMPLICIT_LITTLE;
  }
  const syntax = transferSyntaxOf(uid);
  if (typeof syntax === 'string') throw new DicomError(syntax);
  let body = bytes.subarray(position);
  if (uid === DEFLATED) body = await inflate(body, partial);
  const parser =
    syntax.encoding === 'explicit-big' ? dicomParser.bigEndianByteArrayParser : dicomParser.littleEndianByteArrayParser;
  // dicom-parser throws a bare string for a data set with no bytes left after its meta information.
  if (body.length === 0) throw new DicomError('DICOM: the file ends after its meta information: it holds no data set');
  const stream = attempt(() => new dicomParser.ByteStream(parser, body, 0), 'its data set cannot be read');
  const dataSet = new dicomParser.DataSet(parser, body, {});
  dataSet.warnings = stream.warnings;
  try {
    if (syntax.encoding === 'implicit') dicomParser.parseDicomDataSetImplicit(dataSet, stream, body.length);
    else dicomParser.parseDicomDataSetExplicit(dataSet, stream, body.length);
  } catch (error) {
    // An element ran past the end: when that was the pixel data, imageOf says how much is missing.
    if (!dataSet.elements[PIXEL_DATA] && !partial) {
      attempt(
        () => {
          throw error;
        },
        /overrun/.test(String(error))
          ? 'the file is truncated, or the length of an element runs past its end'
          : 'its data set cannot be read',
      );
    }
  }
  return { dataSet, syntax };
}

/** Runs a dicom-parser step; what it throws (strings, objects) becomes a DicomError. */
function attempt<T>(step: () => T, what: string): T {
  try {
    return step();
  } catch (error) {
    const inner = (error as { exception?: unknown } | null)?.exception ?? error;
    const detail = typeof inner === 'string' ? inner : inner instanceof Error ? inner.message : '';
    // dicom-parser's messages name its own functions; the useful part follows the colon.
    const reason = detail.replace(/^dicomParser\.[\w.]+:\s*/, '').slice(0, 160);
    throw new DicomError(`DICOM: ${what}${reason ? ` (${reason})` : ''}`);
  }
}

/** A deflated data set inflated, stopping past MAX_INFLATED_BYTES (a deflate bomb); `partial`: what a head gives. */
async function inflate(deflated: Uint8Array, partial: boolean): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const stream = new Blob([deflated as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_INFLATED_BYTES)
        throw new DicomError('DICOM: the deflated data set inflates to more than 256 MiB');
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof DicomError) throw error;
    if (!partial) throw new DicomError('DICOM: the deflated data set is damaged');
  } finally {
    reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function imageOf(dataSet: DataSet, transferSyntax: TransferSyntax): DicomImage {
  const pixelElement = dataSet.elements[PIXEL_DATA];
  if (!pixelElement) throw new DicomError('DICOM: no pixel data');
  const rows = uint16Of(dataSet, 'x00280010') ?? 0;
  const columns = uint16Of(dataSet, 'x00280011') ?? 0;
  if (rows < 1 || columns < 1) throw new DicomError('DICOM: the image has no rows or columns');
  if (rows > MAX_SIDE || columns > MAX_SIDE || rows * columns > MAX_PIXELS) {
    throw new DicomError(`DICOM: the image is ${columns} x ${rows} pixels, too large to decode here`);
  }
  const photometric = printable(textOf(dataSet, 'x00280004')).toUpperCase() || 'MONOCHROME2';
  const model = sampleModelOf(dataSet, photometric, transferSyntax);
  const bitsAllocated = uint16Of(dataSet, 'x00280100') ?? 0;
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw new DicomError(`DICOM: ${bitsAllocated} bits allocated a pixel is not supported (8 or 16 are)`);
  }
  const bitsStored = uint16Of(dataSet, 'x00280101') ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) {
    throw new DicomError(`DICOM: ${bitsStored} bits stored in ${bitsAllocated} allocated is not a valid pixel format`);
  }
  const signed = uint16Of(dataSet, 'x00280103') === 1;
  const frames = Math.max(1, Math.floor(numberOf(dataSet, 'x00280008') ?? 1));
  const slope = numberOf(dataSet, 'x00281053') ?? 1;
  const intercept = numberOf(dataSet, 'x00281052') ?? 0;
  const tags: DicomTags = {
    modality: printable(textOf(dataSet, 'x00080060')),
    viewPosition: printable(textOf(dataSet, 'x00185101')),
    photometric,
    bitsStored,
    width: columns,
    height: rows,
  };
  // YBR_FULL_422 keeps one Cb and one Cr for each two pixels: two samples a pixel on average.
  const samplesStored = model.photometric === 'YBR_FULL_422' ? 2 : model.samplesPerPixel;
  const frameBytes = rows * columns * samplesStored * (bitsAllocated / 8);
  const frame =
    transferSyntax.codec === 'native'
      ? nativeFrame(
          dataSet,
          pixelElement,
          frameBytes,
          transferSyntax.encoding === 'explicit-big' && bitsAllocated === 16,
        )
      : encapsulatedFrame(dataSet, pixelElement, frames, transferSyntax);
  return {
    transferSyntax,
    rows,
    columns,
    bitsAllocated,
    bitsStored,
    signed,
    ...model,
    frames,
    slope: slope === 0 ? 1 : slope,
    intercept,
    window: windowOf(dataSet),
    modalityLut: modalityLutOf(dataSet, signed),
    voiLut: voiLutOf(dataSet, signed),
    patientId: textOf(dataSet, 'x00100020'),
    tags,
    frame,
  };
}

function nativeFrame(dataSet: DataSet, element: Element, frameBytes: number, swap: boolean): Uint8Array {
  if (element.length === UNDEFINED_LENGTH || element.encapsulatedPixelData) {
    throw new DicomError('DICOM: the pixel data has an undefined length, which uncompressed pixel data cannot have');
  }
  const held = dataSet.byteArray.length - element.dataOffset;
  if (element.length > held) {
    throw new DicomError(
      `DICOM: the pixel data is truncated: it declares ${element.length} bytes, the file holds ${Math.max(0, held)}`,
    );
  }
  if (element.length < frameBytes) {
    throw new DicomError(`DICOM: the pixel data is truncated: ${element.length} bytes, a frame needs ${frameBytes}`);
  }
  const frame = dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + frameBytes);
  if (!swap) return frame;
  const swapped = new Uint8Array(frameBytes);
  for (let i = 0; i < frameBytes; i += 2) {
    swapped[i] = frame[i + 1];
    swapped[i + 1] = frame[i];
  }
  return swapped;
}

function encapsulatedFrame(dataSet: DataSet, element: Element, frames: number, syntax: TransferSyntax): Uint8Array {
  const fragments = element.fragments ?? [];
  if (!element.encapsulatedPixelData || fragments.length === 0)
    throw new DicomError('DICOM: the compressed pixel data holds no fragment');
  const size = dataSet.byteArray.length;
  for (const fragment of fragments) {
    if (fragment.position + fragment.length > size) {
      throw new DicomError('DICOM: the compressed pixel data is truncated');
    }
  }
  return attempt(() => {
    if (frames === 1)
      return copy(dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, 0, fragments.length));
    // RLE puts one frame in one fragment; so does most else when there are as many fragments as frames.
    if (syntax.codec === 'rle' || fragments.length === frames)
      return copy(dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, 0, 1));
    if ((element.basicOffsetTable ?? []).length > 0)
      return copy(dicomParser.readEncapsulatedImageFrame(dataSet, element, 0));
    if (syntax.codec === 'jpeg-baseline' || syntax.codec === 'jpeg-lossless') {
      const table = dicomParser.createJPEGBasicOffsetTable(dataSet, element);
      return copy(dicomParser.readEncapsulatedImageFrame(dataSet, element, 0, table));
    }
    throw new Error('the frames of the compressed pixel data cannot be told apart');
  }, 'the first frame cannot be read');
}

/** Its own buffer, so a codec may take it. */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function windowOf(dataSet: DataSet): DicomImage['window'] {
  const center = numberOf(dataSet, 'x00281050');
  const width = numberOf(dataSet, 'x00281051');
  if (center === null || width === null || width <= 0) return null;
  const fn = printable(textOf(dataSet, 'x00281056')).toUpperCase();
  return { center, width, fn: fn === 'SIGMOID' || fn === 'LINEAR_EXACT' ? fn : 'LINEAR' };
}
