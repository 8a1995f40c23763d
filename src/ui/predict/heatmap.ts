/**
 * Turbo (Google's rainbow colour map for heat maps), as d3-scale-chromatic approximates it, in 64 evenly
 * spaced sRGB stops from 0 to 1: Vega's 'turbo' scheme (vega-scale), copied. Colours between stops are
 * interpolated linearly.
 */
const TURBO_HEX =
  '23171b32204a3e2a71453493493eae4b49c54a53d7485ee44569ee4074f53c7ff8378af93295f72e9ff42ba9ef28b3e926bce125c5d925cdcf27d5c629dcbc2de3b232e9a738ee9d3ff39347f68950f9805afc7765fd6e70fe667cfd5e88fc5795fb51a1f84badf545b9f140c5ec3cd0e637dae034e4d931ecd12ef4c92bfac029ffb626ffad24ffa223ff9821ff8d1fff821dff771cfd6c1af76118f05616e84b14df4111d5380fcb2f0dc0260ab61f07ac1805a313029b0f00950c00910b00';
const TURBO = Uint8Array.from({ length: TURBO_HEX.length / 2 }, (_, i) =>
  parseInt(TURBO_HEX.slice(i * 2, i * 2 + 2), 16),
);
const TURBO_STOPS = TURBO.length / 3;

/** The turbo colour of `value` (clamped to 0..1) as [r, g, b], 0..255. */
export function turboColor(value: number): [number, number, number] {
  const v = Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
  const f = v * (TURBO_STOPS - 1);
  const i = Math.min(TURBO_STOPS - 2, Math.floor(f));
  const t = f - i;
  const c = (k: number) => Math.round(TURBO[i * 3 + k] + (TURBO[i * 3 + 3 + k] - TURBO[i * 3 + k]) * t);
  return [c(0), c(1), c(2)];
}

/**
 * RGBA bytes (side x side x 4, row-major) of `map` (values 0..1) in the turbo colour map, for an
 * ImageData laid over the image: alpha = opacity x heat (0..255), so cold cells leave the image as it
 * is and the hottest cover it at `opacity` (default 0.6). Pure: no DOM.
 */
export function heatmapRgba(map: Float32Array, side: number, opacity = 0.6): Uint8ClampedArray {
  if (map.length !== side * side)
    throw new Error(`heatmapRgba: a ${side}x${side} map has ${side * side} values, not ${map.length}.`);
  const rgba = new Uint8ClampedArray(side * side * 4);
  const o = Math.min(1, Math.max(0, opacity));
  for (let p = 0; p < map.length; p++) {
    const v = Number.isFinite(map[p]) ? Math.min(1, Math.max(0, map[p])) : 0;
    const [r, g, b] = turboColor(v);
    rgba[p * 4] = r;
    rgba[p * 4 + 1] = g;
    rgba[p * 4 + 2] = b;
    rgba[p * 4 + 3] = Math.round(255 * o * v);
  }
  return rgba;
}
