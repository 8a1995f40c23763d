/** The few tags of a DICOM file the page shows, as plain values (shown as text, never markup). */
export interface DicomTags {
  modality: string;
  viewPosition: string;
  photometric: string;
  bitsStored: number;
  width: number;
  height: number;
}
