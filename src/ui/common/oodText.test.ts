import { describe, expect, it } from 'vitest';
import { oodMethodText, unlikeSentence } from './oodText';

describe("the page's words for the out-of-distribution judgement", () => {
  const distances = Float32Array.from([1, 5, 9, 2]);

  it('names the feature ensemble and its layers, or the last hidden layer alone', () => {
    const layers = ['max_pooling2d_1', 'max_pooling2d_2', 'dense_1'];
    expect(oodMethodText({ layers })).toMatch(
      /several layers \(Lee et al\. feature ensemble\): max_pooling2d_1, max_pooling2d_2, dense_1;.*about 5% of validation/,
    );
    // The default detector: the layers and, under its own words, the image's detail.
    expect(oodMethodText({ layers: [...layers, 'image'] })).toMatch(
      /several layers and image detail: max_pooling2d_1, max_pooling2d_2, dense_1, and the image's fine detail at four scales;/,
    );
    expect(oodMethodText({ layers: ['dense_1'] })).toMatch(/last hidden layer only/);
    // Judgements kept before the feature ensemble name no layers: they were the last hidden layer's.
    expect(oodMethodText({})).toMatch(/last hidden layer only/);
    expect(oodMethodText(null)).toMatch(/last hidden layer only/);
  });

  it('shows at most 8 layer names of 40 characters from a hostile file', () => {
    const text = oodMethodText({ layers: Array.from({ length: 20 }, (_, i) => `${'x'.repeat(60)}${i}`) });
    expect(text).not.toContain('x'.repeat(41));
    expect(text.split('x'.repeat(40)).length - 1).toBe(8);
  });

  it('counts the flagged images', () => {
    expect(unlikeSentence({ distances, threshold: 4 })).toBe('2 of 4 images are unlike the training data (50.0%).');
  });
});
