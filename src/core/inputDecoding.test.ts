import { describe, expect, it } from 'vitest';
import {
  DECODE_FIX_DATE,
  decodedAsNow,
  decodingUnknownText,
  INPUT_DECODING,
  resizeText,
  trainedBeforeDecodeFixText,
} from './inputDecoding';

describe('how the training films were decoded', () => {
  it('takes only the marker this version writes as decoded as now', () => {
    expect(decodedAsNow(INPUT_DECODING)).toBe(true);
    for (const other of [undefined, null, '', 'decoded-at-or-above-size ', 'floor-scale', 1, {}])
      expect(decodedAsNow(other)).toBe(false);
  });

  it('says the size in the resize text and in what it says of an older model', () => {
    expect(resizeText(150)).toBe(
      'decoded at 150 px or more (a JPEG at the smallest eighth of its size that covers 150 px), then squashed to ' +
        '150 x 150 (aspect ratio not kept), EXIF orientation applied',
    );
    expect(trainedBeforeDecodeFixText(224)).toContain(`trained before ${DECODE_FIX_DATE}`);
    expect(trainedBeforeDecodeFixText(224)).toContain('below its 224 px input');
    expect(decodingUnknownText()).toContain(`before ${DECODE_FIX_DATE}`);
  });
});
