/**
 * The describeModel request: the layers and parameter counts of an architecture at an image size, for the
 * settings form, from a model built for the question and disposed at once (no dataset needed).
 */
import { checkSettingValue } from '../core/settings';
import type { ModelSummary } from '../core/types';
import { UserError } from '../core/userError';
import { disposeCnn, validateImageSize } from '../model/cnn';
import { buildModel } from '../model/models';
import { summarizeModel } from '../model/summary';
import type { TrainerRequests } from './protocol';

export function describeModel({
  model: name,
  imageSize,
  numClasses,
  intensityNormalisation = 'none',
  members = 1,
}: TrainerRequests['describeModel']): ModelSummary {
  // The architecture's own lower limit first, in its words; then the form's range.
  validateImageSize(imageSize);
  const problem =
    checkSettingValue('imageSize', imageSize) ??
    checkSettingValue('model', name) ??
    checkSettingValue('intensityNormalisation', intensityNormalisation);
  if (problem) throw new UserError(problem);
  const options = { imageSize, numClasses, learningRate: 1e-3, seed: 0, intensityNormalisation, members };
  const model = buildModel(name, options);
  try {
    return summarizeModel(model);
  } finally {
    disposeCnn(model);
  }
}
