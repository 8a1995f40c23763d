import { AUGMENTATION_PATHS } from '../../core/settings';
import {
  ACQUISITION_AUGMENTATION,
  ACQUISITION_PRESET_SETTINGS,
  DEFAULT_AUGMENTATION,
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
        <button type="button" disabled={disabled} onClick={() => form.setAugmentation(DEFAULT_AUGMENTATION)}>
          No augmentation
        </button>
      </span>
      <small className="settings__note">
        Off by default: on held-out X-rays it cost accuracy, and it did not help on the public test split. The
        tutorial’s setting is rotation 10, zoom 0.2, shift 0.1, shear 10. Every training image gets a fresh random draw
        each epoch. Rotation and shear: degrees either way; zoom 0.2: 0.8 to 1.2 times; shift: fraction of the width and
        height; brightness 0.2: 0.8 to 1.2 times. 0 turns one off. Horizontal flip is off by default: a mirrored chest
        has its heart on the wrong side. Contrast, gamma, blur and noise mimic another machine or hospital (see
        docs/generalisation.md). Acquisition augmentation sets contrast 0.4, gamma 0.5, blur 1, noise 0.04, zoom 0.2 and
        Patience 0: at 150 px it kept the model’s decisions under blur, low resolution and halved contrast, where the
        defaults call most normal films pneumonia, at about twice the training time.
      </small>
    </fieldset>
  );
}
