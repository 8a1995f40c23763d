import { describe, expect, it } from 'vitest';
import type { ShiftRow } from '../../eval/shiftMetrics';
import { percent, shiftSummary } from './shiftText';

const row = (shift: ShiftRow['shift'], figures: Partial<ShiftRow> = {}): ShiftRow => ({
  shift,
  count: 200,
  accuracy: 0.9,
  sensitivity: 0.9,
  specificity: 0.95,
  auc: 0.95,
  unlikeShare: 0.05,
  ...figures,
});

describe("the page's words for the acquisition-shift check", () => {
  it('names the largest fall, the images and what the detector flags, then what it means', () => {
    const text = shiftSummary([
      row('as is'),
      row('blurred', { specificity: 0.01, unlikeShare: 0.21 }),
      row('noise', { sensitivity: 0.5 }),
    ]);
    expect(text).toMatch(
      /^Blurred images: the model’s specificity falls from 0\.95 to 0\.01 \(200 images\); the unlike-training detector flags 21% of them\. /,
    );
    expect(text).toContain('A film from another scanner or site can look like these');
    expect(text).toMatch(/The Blur field of Augmentation trains the model on such images/);
    expect(shiftSummary([row('as is'), row('tighter framing', { specificity: 0.07 })])).toMatch(
      /framed tighter: .* The Crop field of Augmentation trains/,
    );
  });

  it('says so when the model carries no detector, or no shift lowers a figure', () => {
    const inverted = shiftSummary([row('as is'), row('inverted', { sensitivity: 0.1, unlikeShare: null })]);
    expect(inverted).toMatch(
      /^Inverted images: the model’s sensitivity falls from 0\.90 to 0\.10 \(200 images\); the model carries no unlike-training detector\./,
    );
    expect(inverted).not.toContain('field of Augmentation');
    expect(shiftSummary([row('as is'), row('noise')])).toMatch(
      /^No shift lowers the model’s figures .* \(200 images\)\./,
    );
    expect(percent(null)).toBe('n/a');
    expect(percent(0.125)).toBe('13%');
  });
});
