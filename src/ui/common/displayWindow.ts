/**
 * The display window: which grey levels of an image fill the screen's black-to-white, as a radiologist narrows the
 * window to see lungs or bone. It maps the 8-bit grey the model sees to what the canvas shows, and nothing else.
 */
export interface DisplayWindow {
  /** Grey level shown mid-grey, 0..255. */
  center: number;
  /** Grey levels spread over black to white, 1..256. */
  width: number;
}

/** Every level as it is: black 0, white 255. */
export const FULL_WINDOW: Readonly<DisplayWindow> = { center: 127.5, width: 256 };

/** The shown level of each grey level 0..255 (linear, clipped). */
export function windowTable({ center, width }: DisplayWindow): Uint8Array {
  const table = new Uint8Array(256);
  const low = center - width / 2;
  for (let v = 0; v < 256; v++) table[v] = Math.round(Math.min(255, Math.max(0, ((v - low) / width) * 256 - 0.5)));
  return table;
}
