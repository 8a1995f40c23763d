import { describe, expect, it } from 'vitest';
import { mimeTypeOf } from './imageTypes';

describe('mimeTypeOf', () => {
  it('maps image extensions', () => {
    expect(mimeTypeOf('a/B.JPG')).toBe('image/jpeg');
    expect(mimeTypeOf('x.webp')).toBe('image/webp');
    expect(mimeTypeOf('x.txt')).toBe('');
  });
});
