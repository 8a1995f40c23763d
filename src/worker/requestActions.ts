/**
 * What the worker was doing for each request, as an error message names it ("… while training").
 */
import type { TrainerRequestType } from './protocol';

export const REQUEST_ACTIONS: Record<TrainerRequestType, string> = {
  setData: 'loading the dataset',
  describeModel: 'describing the model',
  train: 'training',
  stop: 'stopping',
  pause: 'pausing',
  exportModel: 'preparing the model for download',
  previewAugmentation: 'showing augmented samples',
  evaluate: 'reporting the results',
  evaluatedImages: 'showing the images of a confusion-matrix cell',
  adaptedReport: 'adapting BatchNorm to the test images',
  shiftCheck: 'checking acquisition shifts',
  restoreModel: 'bringing back the model',
  predict: 'predicting',
  evaluateModel: 'evaluating the model',
};
