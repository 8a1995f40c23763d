import { AUGMENTATION_PATHS } from '../../core/settings';
import {
  ACQUISITION_AUGMENTATION,
  ACQUISITION_PRESET_SETTINGS,
  NO_AUGMENTATION,
  NO_AUGMENTATION_PRESET_SETTINGS,
  TUTORIAL_AUGMENTATION,
} from './augmentationSettings';
import { SettingField, type SettingFields } from '../common/FormFields';

/** The `Augmentation` fieldset of the settings form: a field per augmentation row of the settings table, and presets. */
export function AugmentationFieldset({ form, disabled }: { form: SettingFields; disabled: boolean }) {
  return (
    <fieldset className="settings__group">
      <legend>Augmentation</legend>
      {AUGMENTATION_PATHS.map((path) => (
        <SettingField key={path} path={path} form={form} disabled={disabled} />
      ))}
      <span className="settings__presets">
        <button type="button" disabled={disabled} onClick={() => form.setAugmentation(TUTORIAL_AUGMENTATION)}>
          Tutorial’s augmentation
        </button>{' '}
        <button
          type="button"
          disabled={disabled}
          onClick={() => form.setAugmentation(ACQUISITION_AUGMENTATION, ACQUISITION_PRESET_SETTINGS)}
        >
          Acquisition augmentation
        </button>{' '}
        <button
          type="button"
          disabled={disabled}
          onClick={() => form.setAugmentation(NO_AUGMENTATION, NO_AUGMENTATION_PRESET_SETTINGS)}
        >
          No augmentation
        </button>
      </span>
      <small className="settings__note">
        By default the acquisition changes are on: contrast 0.4, gamma 0.5, blur 1, noise 0.04 and zoom 0.2, with
        Patience 0. They mimic another machine or hospital (see docs/generalisation.md): at 150 px, without them the
        model called most blurred, low-resolution or low-contrast normal films pneumonia; with them it kept its
        decisions, at the same accuracy on unshifted films and about 1.5 times the training time. Every training image
        gets a fresh random draw each epoch. The tutorial’s setting is rotation 10, zoom 0.2, shift 0.1, shear 10 (on
        held-out X-rays it cost accuracy). Rotation and shear: degrees either way; zoom 0.2: 0.8 to 1.2 times; shift:
        fraction of the width and height; brightness 0.2: 0.8 to 1.2 times; crop 0.4: half the images cropped to 60% to
        100% of the side, anywhere in the image, and scaled back (a tighter frame; off by default, see
        docs/generalisation.md). 0 turns one off. No augmentation turns every change off and early stopping back on
        (Patience 3). Horizontal flip is off: a mirrored chest has its heart on the wrong side.
      </small>
    </fieldset>
  );
}
