/**
 * One DICOM file to `size` x `size` grey bytes, with the few tags the page shows and the patient's hashed id.
 * Runs in a decode worker; in Node for tests and benchmarks.
 */
import { decodeFrame } from './codecs';
import { asGreyImage, colourToGrey } from './colour';
import { parseDicomImage, type DicomTags } from './parse';
import { greyAtSize } from './pixels';
import { hashPatientId } from './patientHash';

export { hashPatientId };

export interface DecodedDicom {
  pixels: Uint8Array;
  width: number;
  height: number;
  tags: DicomTags;
  /** SHA-256 of PatientID (hashPatientId); null when the file has none. Never the id in clear. */
  patient: string | null;
}

/** Decodes `bytes`; throws a DicomError (message `DICOM: …`) when the file cannot be used. */
export async function decodeDicom(bytes: Uint8Array, size: number): Promise<DecodedDicom> {
  const image = await parseDicomImage(bytes);
  const frame = await decodeFrame(image);
  const colour = image.samplesPerPixel === 3 || image.palette !== null;
  return {
    pixels: colour
      ? greyAtSize(asGreyImage(image), colourToGrey(image, frame), size)
      : greyAtSize(image, frame.words, size),
    width: image.columns,
    height: image.rows,
    tags: image.tags,
    patient: image.patientId === null ? null : await hashPatientId(image.patientId),
  };
}
