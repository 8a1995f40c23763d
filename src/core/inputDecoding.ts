/**
 * How the page turns an image file into the model's input, recorded with every run and model it trains, so that a
 * model trained on another decoding is known as one.
 *
 * Before 2026-12-05 the page asked Chrome's JPEG decoder for the input size, and the decoder rounds its DCT scale
 * down: many films came out below the input size and were enlarged, softer than they are (more so the archive's
 * smaller pneumonia films). Since then a JPEG is decoded at the smallest eighth of its size that covers the input
 * (data/jpegScale.ts) and every other format whole, then squashed by the canvas. A model trained before sees today's
 * films sharper than its training films, and its unlike-training detector reads their detail as unfamiliar.
 */
export const INPUT_DECODING = 'decoded-at-or-above-size';
export type InputDecoding = typeof INPUT_DECODING;

/** The day the page began decoding as INPUT_DECODING says. */
export const DECODE_FIX_DATE = '2026-12-05';

/** metadata.json's `resize` for a model the page trains now. */
export function resizeText(size: number): string {
  return (
    `decoded at ${size} px or more (a JPEG at the smallest eighth of its size that covers ${size} px), then squashed ` +
    `to ${size} x ${size} (aspect ratio not kept), EXIF orientation applied`
  );
}

/** metadata.json's `resize` for a model trained before the decode fix (a run stored then, downloaded now). */
export function resizeTextBeforeDecodeFix(size: number): string {
  return `squashed to ${size} x ${size} (aspect ratio not kept), EXIF orientation applied`;
}

/** Whether a record's or metadata's `inputDecoding` says the model trained on films decoded as the page does now. */
export function decodedAsNow(inputDecoding: unknown): boolean {
  return inputDecoding === INPUT_DECODING;
}

/** What the page says of a run it trained before the decode fix (its record has no `inputDecoding`). */
export function trainedBeforeDecodeFixText(size: number): string {
  return (
    `It was trained before ${DECODE_FIX_DATE}, when the page decoded many JPEG films below its ${size} px input and ` +
    'enlarged them (softer than they are): films now reach the model sharper than its training films did, so its ' +
    'reported figures, threshold and unlike-training judgements may not hold for them. Train it again in this ' +
    'version to use it on films as the page reads them now.'
  );
}

/** What the page says of a loaded model file whose metadata.json does not say how its films were decoded. */
export function decodingUnknownText(): string {
  return (
    'Its metadata.json does not say how its training films were decoded: a model trained in this page before ' +
    `${DECODE_FIX_DATE} learnt from JPEG films decoded below its input size and enlarged, and reads films as the ` +
    'page decodes them now (sharper) less reliably than its figures say. If it is one, train it again in this version.'
  );
}

/** The model card's known limit for a model whose metadata does not say its films were decoded as now. */
export function decodeFixLimitText(size: number): string {
  return (
    `Its metadata does not say its training films were decoded as the page decodes them since ${DECODE_FIX_DATE}: ` +
    `a model trained before then learnt from JPEG films decoded below its ${size} px input and ` +
    'enlarged (softer than they are), and its figures may not hold for films decoded as they are now.'
  );
}
