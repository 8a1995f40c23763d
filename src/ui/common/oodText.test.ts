import { describe, expect, it } from 'vitest';
import { oodMethodText, unlikeReasonsSentence, unlikeSentence, unlikeWhySentence } from './oodText';

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
    // Runs kept before their judgements recorded the layers: which detector judged is not known, and not guessed.
    expect(oodMethodText({})).toMatch(/which detector judged is not recorded with this run/);
    expect(oodMethodText({})).not.toMatch(/last hidden layer/);
    expect(oodMethodText(null)).toMatch(/last hidden layer only/);
    // A stored run is outside input: what is not a name is left out.
    expect(oodMethodText({ layers: [7, 'dense_1'] as unknown as string[] })).toMatch(/last hidden layer only/);
  });

  it('shows at most 8 layer names of 40 characters from a hostile file', () => {
    const text = oodMethodText({ layers: Array.from({ length: 20 }, (_, i) => `${'x'.repeat(60)}${i}`) });
    expect(text).not.toContain('x'.repeat(41));
    expect(text.split('x'.repeat(40)).length - 1).toBe(8);
  });

  it('counts the flagged images', () => {
    expect(unlikeSentence({ distances, threshold: 4 })).toBe('2 of 4 images are unlike the training data (50.0%).');
  });

  it('says what the flagged images owe their scores to, and nothing when it cannot tell', () => {
    const judged = {
      distances: Float32Array.from([1, 5, 9, 8, 7]),
      threshold: 4,
      layers: ['max_pooling2d_1', 'max_pooling2d_2', 'max_pooling2d_3', 'dense_1', 'image'],
      // Flagged: image 2 by its detail (softer), 3 by its detail (sharper), 4 by dense_1, 5 by max_pooling2d_1.
      parts: Float32Array.from([
        ...[0.2, 0.2, 0.2, 0.2, 0.2],
        ...[0.5, 0.5, 0.5, 0.5, 3],
        ...[1, 1, 1, 1, 5],
        ...[1, 1, 1, 4, 1],
        ...[4, 1, 1, 0.5, 0.5],
      ]),
      detailRatio: Float32Array.from([1, 0.4, 3, 1, 1]),
    };
    expect(unlikeReasonsSentence(judged)).toBe(
      'Flagged most of all by less fine detail than the training films (blurred, lower resolution, softer processing): 1; ' +
        "more fine detail (sharper processing, noise, grain): 1; the network's early layers (intensity and texture): " +
        '1; its later layers (shapes and content): 1.',
    );
    expect(unlikeWhySentence(judged, 2)).toBe(
      'Unlike the training data, most of all by more fine detail than the training films (3.0 times theirs): sharper ' +
        'processing, noise or grain: 56% of its score.',
    );
    expect(unlikeWhySentence(judged, 3)).toMatch(/later layers \(dense_1: shapes and content\): 50% of its score\.$/);
    expect(unlikeReasonsSentence({ distances, threshold: 4 })).toBe('');
    expect(unlikeWhySentence({ distances, threshold: 4 }, 2)).toBeNull();
  });
});
