/**
 * What the page says about each network of the `Model` setting (model/models.ts builds them; the page
 * may not import tfjs, so the words live here) and why the default is the default.
 */
import type { ModelName } from '../../core/types';

/** A paragraph on the network `model` with this many classes: its layers, loss and optimizer. */
export function modelDescription(model: ModelName, numClasses: number): string {
  const output = numClasses === 2 ? 'a sigmoid unit' : `a softmax over ${numClasses} classes`;
  const training = `${numClasses === 2 ? 'binary' : 'categorical'} cross-entropy, RMSprop.`;
  const head = `then Flatten, Dense 64 ReLU, Dropout 0.5 and ${output}; ${training}`;
  switch (model) {
    case 'tutorial':
      return `The Keras tutorial's CNN: four blocks of Conv2D (2 × 2; 32, 32, 64, 32 filters) + ReLU + MaxPooling 2 × 2, ${head}`;
    case 'batchnorm':
      return (
        `The tutorial's CNN with BatchNormalization: four blocks of Conv2D (2 × 2; 32, 32, 64, 32 filters, no bias) + ` +
        `BatchNormalization + ReLU + MaxPooling 2 × 2, ${head} BatchNormalization scales each block's output by statistics ` +
        'of the batch while training and by their running averages (saved with the model) afterwards.'
      );
  }
}

/** Why the `Model` setting's default is what it is (docs/benchmarks.md's accuracy tables have the runs). */
export const MODEL_DEFAULT_REASON =
  'The default is the BatchNorm variant, by measurement: on 15% of the chest X-ray train folder held out by patient ' +
  "(64 px, 3 seeds) it scored AUC 0.996 and specificity 0.94 against the tutorial CNN's 0.992 and 0.91, with about the " +
  'same sensitivity (0.97 against 0.98). Its training steps take about 1.5 times as long.';
