import type { DicomTags } from '../../data/dicom/tags';
import type { DicomSummary } from '../../data/types';

/** The few DICOM tags the page shows, in one line of plain text (React renders it as text: markup stays text). */
export function dicomTagsText(tags: DicomTags): string {
  return [
    tags.modality || 'modality unknown',
    tags.viewPosition ? `view ${tags.viewPosition}` : '',
    tags.photometric,
    `${tags.bitsStored} bits stored`,
    `${tags.width} × ${tags.height}`,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** `12 DICOM files (CR 8, DX 4)`. */
export function dicomSummaryText(summary: DicomSummary): string {
  const mix = Object.entries(summary.modalities)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([modality, count]) => `${modality} ${count}`)
    .join(', ');
  return `${summary.images} DICOM file${summary.images === 1 ? '' : 's'} among the images (modalities: ${mix}).`;
}
