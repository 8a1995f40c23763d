/** What the page says of a run or model whose films were not decoded as the page decodes them now (core/inputDecoding.ts). */
import { decodedAsNow, decodingUnknownText, trainedBeforeDecodeFixText } from '../../core/inputDecoding';
import type { ModelMetadata } from '../../core/types';
import type { SavedRun } from '../../storage/runsDb';

/** For a loaded model file: '' when its metadata says its films were decoded as now, else why to be wary. */
export function decodingNote(metadata: Pick<ModelMetadata, 'inputDecoding'>): string {
  return decodedAsNow(metadata.inputDecoding) ? '' : decodingUnknownText();
}

/** For a stored run: '' when it trained on films decoded as now (or its loaded file says so), else why to be wary. */
export function decodingNoteOfRun(run: Pick<SavedRun, 'status' | 'inputDecoding' | 'metadata' | 'settings'>): string {
  if (run.status === 'loaded') return decodingNote(run.metadata ?? {});
  return decodedAsNow(run.inputDecoding) ? '' : trainedBeforeDecodeFixText(run.settings.imageSize);
}
