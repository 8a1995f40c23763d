/** What the augmentation tests share: draws handed out in a fixed order. */

/** A "random" source that hands out these numbers in turn, over and over. */
export function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

/** Random draws in DRAWS_PER_IMAGE order: rotation, shift x, shift y, shear, zoom x, zoom y, flip, brightness. */
export const MIDDLE = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.9, 0.5];
