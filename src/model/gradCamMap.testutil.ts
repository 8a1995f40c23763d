/** Grad-CAM maps at image size, for tests that measure where the heat falls. */

/**
 * Grad-CAM maps as pictures: a map resized to the image and painted in the turbo colour map with heat as
 * opacity. Plain arithmetic on typed arrays (no DOM, no tfjs), so the page paints the worker's maps itself.
 */
/**
 * `map` (side x side) resized to outSide x outSide bilinearly, as tf.image.resizeBilinear with
 * halfPixelCenters (alignCorners false) does: each map cell covers an equal share of the image.
 * (That share is approximate for the CNNs here: their 'valid' 2x2 convolutions and flooring pools
 * leave the last few pixels at the right and bottom edges out of the last block's grid.)
 * A canvas drawImage with smoothing gives about the same; this one is exact and needs no DOM.
 */
export function upsampleMap(map: Float32Array, side: number, outSide: number): Float32Array {
  if (map.length !== side * side)
    throw new Error(`upsampleMap: a ${side}x${side} map has ${side * side} values, not ${map.length}.`);
  const out = new Float32Array(outSide * outSide);
  const ratio = side / outSide;
  const rows = new Int32Array(outSide * 2);
  const fracs = new Float32Array(outSide);
  for (let r = 0; r < outSide; r++) {
    const f = ratio * (r + 0.5) - 0.5;
    rows[r * 2] = Math.max(0, Math.floor(f));
    rows[r * 2 + 1] = Math.min(side - 1, Math.ceil(f));
    fracs[r] = f - Math.floor(f);
  }
  for (let y = 0; y < outSide; y++) {
    const top = rows[y * 2] * side;
    const bottom = rows[y * 2 + 1] * side;
    const dy = fracs[y];
    for (let x = 0; x < outSide; x++) {
      const left = rows[x * 2];
      const right = rows[x * 2 + 1];
      const dx = fracs[x];
      const t = map[top + left] + (map[top + right] - map[top + left]) * dx;
      const b = map[bottom + left] + (map[bottom + right] - map[bottom + left]) * dx;
      out[y * outSide + x] = t + (b - t) * dy;
    }
  }
  return out;
}
