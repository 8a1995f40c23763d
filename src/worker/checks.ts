/**
 * Checks of what the page sends, before any work starts, with messages that say what to do.
 */
import { validateImageSize } from '../model/cnn';
import { UserError } from '../model/userError';
import { BACKEND_CHOICES, CLASS_WEIGHTINGS, type ImageSet, type TrainSettings } from './protocol';
import { checkAugmentation } from './augmentSettings';
import type { TrainingData } from './trainingRun';

export function checkImageSet(split: string, set: ImageSet, size: number, numClasses: number): void {
  if (set.size !== size) {
    throw new UserError(`The ${split} images are ${set.size} px but the train images are ${size} px: load the dataset again.`);
  }
  if (!Number.isInteger(set.count) || set.count < 0) throw new UserError(`The ${split} split has an invalid image count (${set.count}).`);
  if (set.pixels.length < set.count * size * size || set.labels.length < set.count) {
    throw new UserError(`The ${split} split arrived incomplete (${set.pixels.length} bytes for ${set.count} images of ${size} px): load the dataset again.`);
  }
  for (let i = 0; i < set.count; i++) {
    if (set.labels[i] >= numClasses) {
      throw new UserError(`Image ${i} of the ${split} split has class ${set.labels[i]}, but there are only ${numClasses} classes.`);
    }
  }
}

export function checkSettings(settings: TrainSettings, data: TrainingData): void {
  const { imageSize, epochs, batchSize, learningRate, seed, backend } = settings;
  validateImageSize(imageSize);
  if (imageSize !== data.train.size) {
    throw new UserError(
      `The images were prepared at ${data.train.size} px but the settings ask for ${imageSize} px: load the dataset again at ${imageSize} px, or set the image size back to ${data.train.size}.`,
    );
  }
  if (!Number.isInteger(epochs) || epochs < 1) throw new UserError(`Epochs must be a whole number of at least 1 (got ${epochs}).`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`Batch size must be a whole number of at least 1 (got ${batchSize}).`);
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw new UserError(`Learning rate must be a positive number (got ${learningRate}); the tutorial uses 0.001.`);
  }
  if (!Number.isInteger(seed)) throw new UserError(`Seed must be a whole number (got ${seed}).`);
  if (!BACKEND_CHOICES.includes(backend)) throw new UserError(`Unknown backend "${backend}"; choose one of ${BACKEND_CHOICES.join(', ')}.`);
  if (!CLASS_WEIGHTINGS.includes(settings.classWeighting)) {
    throw new UserError(`Unknown class weighting "${settings.classWeighting}"; choose one of ${CLASS_WEIGHTINGS.join(', ')}.`);
  }
  if (!Number.isInteger(settings.patience) || settings.patience < 0) {
    throw new UserError(`Patience must be a whole number of epochs, 0 to turn early stopping off (got ${settings.patience}).`);
  }
  const augmentation = settings.augmentation ? checkAugmentation(settings.augmentation) : 'The augmentation settings are missing.';
  if (augmentation) throw new UserError(augmentation);
  if (data.train.count === 0) throw new UserError('The train split has no images: there is nothing to train on.');
}
