import { describe, expect, it } from 'vitest';
import { INPUT_DECODING } from '../../core/inputDecoding';
import { DEFAULT_SETTINGS } from '../../core/settings';
import type { ModelMetadata } from '../../core/types';
import type { SavedRun } from '../../storage/runsDb';
import { decodingNote, decodingNoteOfRun } from './decodingNote';

type Run = Pick<SavedRun, 'status' | 'inputDecoding' | 'metadata' | 'settings'>;
const settings = { ...DEFAULT_SETTINGS, imageSize: 150 };
const metadata = (inputDecoding?: typeof INPUT_DECODING) =>
  ({ imageSize: 150, ...(inputDecoding ? { inputDecoding } : {}) }) as ModelMetadata;

describe('what the page says of a model trained on films decoded otherwise', () => {
  it('says nothing of a run begun in this version', () => {
    const run: Run = { status: 'done', inputDecoding: INPUT_DECODING, settings };
    expect(decodingNoteOfRun(run)).toBe('');
  });

  it('says a run stored before the decode fix trained on softer films, with its input size', () => {
    for (const status of ['done', 'stopped', 'training'] as const) {
      const note = decodingNoteOfRun({ status, settings });
      expect(note).toMatch(/^It was trained before 2026-12-05, when the page decoded many JPEG films below its 150 px/);
      expect(note).toContain('Train it again');
    }
  });

  it("reads a loaded model file's own metadata, not the form's run", () => {
    expect(decodingNoteOfRun({ status: 'loaded', settings, metadata: metadata(INPUT_DECODING) })).toBe('');
    expect(decodingNoteOfRun({ status: 'loaded', settings, metadata: metadata() })).toMatch(
      /^Its metadata.json does not say how its training films were decoded/,
    );
    expect(decodingNoteOfRun({ status: 'loaded', settings })).toMatch(/^Its metadata.json does not say/);
    expect(decodingNote(metadata(INPUT_DECODING))).toBe('');
  });
});
