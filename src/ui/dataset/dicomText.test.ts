import { describe, expect, it } from 'vitest';
import { dicomSummaryText, dicomTagsText } from './dicomText';

describe('dicomText', () => {
  it('says the tags in one line', () => {
    expect(
      dicomTagsText({
        modality: 'CR',
        viewPosition: 'PA',
        photometric: 'MONOCHROME1',
        bitsStored: 12,
        width: 2048,
        height: 2500,
      }),
    ).toBe('CR · view PA · MONOCHROME1 · 12 bits stored · 2048 × 2500');
    expect(
      dicomTagsText({ modality: '', viewPosition: '', photometric: 'MONOCHROME2', bitsStored: 8, width: 4, height: 4 }),
    ).toBe('modality unknown · MONOCHROME2 · 8 bits stored · 4 × 4');
  });

  it('counts the modality mix, most first', () => {
    expect(dicomSummaryText({ images: 5, modalities: { DX: 1, CR: 4 } })).toBe(
      '5 DICOM files among the images (modalities: CR 4, DX 1).',
    );
  });
});
