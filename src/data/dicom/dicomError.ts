/** A DICOM file that cannot be used, and why (the message starts `DICOM:`). */
export class DicomError extends Error {
  override name = 'DicomError';
}
