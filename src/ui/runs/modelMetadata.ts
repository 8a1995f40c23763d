import { decodedAsNow, INPUT_DECODING, resizeText, resizeTextBeforeDecodeFix } from '../../core/inputDecoding';
import type { ModelMetadata, OodDetector } from '../../core/types';
import type { ReportedThreshold } from '../../eval/report';
import { checkOodDetector } from '../../eval/oodDetectorCheck';
import type { SavedRun } from '../../storage/runsDb';

/** metadata.json for a run's model: what a runtime needs beside the weights to use it as the page does. */
export function metadataOfRun(
  run: SavedRun,
  reported: ReportedThreshold | null,
  trainedEpochs: number,
  backend: string,
): ModelMetadata {
  // As the spec of ensemble models says: kind and member count only.
  const ensemble = run.ensemble ? { ensemble: { kind: run.ensemble.kind, members: run.ensemble.members } } : {};
  if (run.metadata) return { ...run.metadata, ...(reported ? thresholdOf(run, reported) : {}), ...ensemble };
  const binary = run.classNames.length === 2;
  const decodedNow = decodedAsNow(run.inputDecoding);
  return {
    classNames: run.classNames,
    imageSize: run.settings.imageSize,
    channels: 1,
    normalisation: 'grey = 0.299 R + 0.587 G + 0.114 B, then pixel / 255 (values in 0..1)',
    model: run.settings.model,
    output: binary ? 'sigmoid' : 'softmax',
    positiveClass: binary ? run.classNames[1] : null,
    ...(reported ? thresholdOf(run, reported) : { threshold: null, thresholdClass: null, thresholdRule: null }),
    // A run begun before the decode fix says the resize its films had, and carries no marker.
    resize: (decodedNow ? resizeText : resizeTextBeforeDecodeFix)(run.settings.imageSize),
    trainedEpochs,
    backend,
    createdAt: new Date().toISOString(),
    ...ensemble,
    ...(decodedNow ? { inputDecoding: INPUT_DECODING } : {}),
  };
}

function thresholdOf(
  run: SavedRun,
  reported: ReportedThreshold,
): Pick<ModelMetadata, 'threshold' | 'thresholdClass' | 'thresholdRule' | 'testTimeAugmentation'> {
  return {
    threshold: reported.threshold,
    thresholdClass: run.classNames[reported.positiveClass],
    thresholdRule: reported.rule,
    testTimeAugmentation: reported.testTimeAugmentation,
  };
}

/**
 * The out-of-distribution detector a stored model's model.json carries (userDefinedMetadata), for its metadata.json;
 * null when it carries none or a damaged one (the worker refuses such a model when it loads it).
 */
export function oodOfModelJson(modelJson: string): OodDetector | null {
  try {
    const json = JSON.parse(modelJson) as { userDefinedMetadata?: { outOfDistribution?: unknown } };
    const raw = json.userDefinedMetadata?.outOfDistribution;
    return raw === undefined || raw === null ? null : checkOodDetector(raw);
  } catch {
    return null;
  }
}
