/**
 * Checks of what the page sends, before any work starts, with messages that say what to do.
 */
import { UserError } from '../core/userError';
import { checkTrainSettings } from '../core/settings';
import type { ImageSet, Splits, TrainSettings } from '../core/types';

export function checkImageSet(split: string, set: ImageSet, size: number, numClasses: number): void {
  if (set.size !== size) {
    throw new UserError(
      `The ${split} images are ${set.size} px but the train images are ${size} px: load the dataset again.`,
    );
  }
  if (!Number.isInteger(set.count) || set.count < 0)
    throw new UserError(`The ${split} split has an invalid image count (${set.count}).`);
  if (set.pixels.length < set.count * size * size || set.labels.length < set.count) {
    throw new UserError(
      `The ${split} split arrived incomplete (${set.pixels.length} bytes for ${set.count} images of ${size} px): load the dataset again.`,
    );
  }
  if (set.groups && set.groups.length < set.count) {
    throw new UserError(
      `The ${split} split arrived with patients for ${set.groups.length} of its ${set.count} images: load the dataset again.`,
    );
  }
  for (let i = 0; i < set.count; i++) {
    if (set.labels[i] >= numClasses) {
      throw new UserError(
        `Image ${i} of the ${split} split has class ${set.labels[i]}, but there are only ${numClasses} classes.`,
      );
    }
  }
}

/** A dataset as the page sends it: at least two classes, and every split whole, at the train images' size. */
export function checkSplits({ classNames, train, validation, test }: Splits): void {
  if (classNames.length < 2) {
    throw new UserError(
      `Training needs at least two classes, but the dataset has ${classNames.length} (${classNames.join(', ') || 'none'}). Put the images of each class in their own folder.`,
    );
  }
  checkImageSet('train', train, train.size, classNames.length);
  checkImageSet('validation', validation, train.size, classNames.length);
  if (test) checkImageSet('test', test, train.size, classNames.length);
}

/**
 * Refuses exactly what the settings form refuses (every row of the settings table the worker reads), then
 * what only the data can tell.
 */
export function checkSettings(settings: TrainSettings, data: Splits): void {
  if (!settings.augmentation) throw new UserError('The augmentation settings are missing.');
  const problem = checkTrainSettings(settings);
  if (problem) throw new UserError(problem);
  const { imageSize } = settings;
  if (imageSize !== data.train.size) {
    throw new UserError(
      `The images were prepared at ${data.train.size} px but the settings ask for ${imageSize} px: load the dataset again at ${imageSize} px, or set the image size back to ${data.train.size}.`,
    );
  }
  if (data.train.count === 0) throw new UserError('The train split has no images: there is nothing to train on.');
}
