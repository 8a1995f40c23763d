import { useState } from 'react';
import { AUGMENTATION_FIELDS, AUGMENTATION_RANGES, FLIP_FIELD, checkAugmentationValue, type AugmentationRange } from '../worker/augmentSettings';
import type { AugmentationSettings, TrainSettings } from '../worker/protocol';
import { DEFAULT_AUGMENTATION, TUTORIAL_AUGMENTATION } from './augmentationSettings';
import { NumberField } from './FormFields';

type Texts = Record<AugmentationRange, string>;

export interface AugmentationForm {
  text: Texts;
  settings: AugmentationSettings;
  /** One a field whose text cannot be used (Train waits until there is none). */
  problems: [AugmentationRange, string][];
  update: (name: AugmentationRange, value: string) => void;
  setFlip: (on: boolean) => void;
  /** Sets every field at once (a preset). */
  setAll: (augmentation: AugmentationSettings) => void;
}

function problemOf(name: AugmentationRange, text: string): string | null {
  return text.trim() === '' ? `${AUGMENTATION_FIELDS[name].label} must be a number.` : checkAugmentationValue(name, Number(text));
}

/** The augmentation fields' state: text as typed (a half-typed number is kept), valid values go up at once. */
export function useAugmentationForm(settings: TrainSettings, onChange: (settings: TrainSettings) => void): AugmentationForm {
  const [text, setText] = useState<Texts>(
    () => Object.fromEntries(AUGMENTATION_RANGES.map((name) => [name, String(settings.augmentation[name])])) as Texts,
  );
  const problems = AUGMENTATION_RANGES.flatMap((name): [AugmentationRange, string][] => {
    const problem = problemOf(name, text[name]);
    return problem ? [[name, problem]] : [];
  });
  return {
    text,
    settings: settings.augmentation,
    problems,
    update: (name, value) => {
      setText((t) => ({ ...t, [name]: value }));
      if (problemOf(name, value) === null) onChange({ ...settings, augmentation: { ...settings.augmentation, [name]: Number(value) } });
    },
    setFlip: (on) => onChange({ ...settings, augmentation: { ...settings.augmentation, horizontalFlip: on } }),
    setAll: (augmentation) => {
      setText(Object.fromEntries(AUGMENTATION_RANGES.map((name) => [name, String(augmentation[name])])) as Texts);
      onChange({ ...settings, augmentation });
    },
  };
}

/** The `Augmentation` fieldset of the settings form (each field also a URL query parameter). */
export function AugmentationFieldset({ form, disabled }: { form: AugmentationForm; disabled: boolean }) {
  const invalid = new Set(form.problems.map(([name]) => name));
  return (
    <fieldset className="settings__group">
      <legend>Augmentation</legend>
      {AUGMENTATION_RANGES.map((name) => {
        const field = AUGMENTATION_FIELDS[name];
        return (
          <NumberField
            key={name}
            label={field.label}
            name={field.key}
            min={0}
            max={field.max}
            step={field.step}
            value={form.text[name]}
            title={`0 to ${field.max}: ${field.unit}`}
            disabled={disabled}
            invalid={invalid.has(name)}
            onChange={(value) => form.update(name, value)}
          />
        );
      })}
      <label className="settings__check">
        <input
          type="checkbox"
          name={FLIP_FIELD.key}
          checked={form.settings.horizontalFlip}
          disabled={disabled}
          onChange={(e) => form.setFlip(e.target.checked)}
        />
        {FLIP_FIELD.label}
      </label>
      <span className="settings__presets">
        <button type="button" disabled={disabled} onClick={() => form.setAll(TUTORIAL_AUGMENTATION)}>
          Tutorial’s augmentation
        </button>{' '}
        <button type="button" disabled={disabled} onClick={() => form.setAll(DEFAULT_AUGMENTATION)}>
          No augmentation
        </button>
      </span>
      <small className="settings__note">
        Off by default: on held-out X-rays it cost accuracy, and it did not help on the public test split. The tutorial’s
        setting is rotation 10, zoom 0.2, shift 0.1, shear 10. Every training image gets a fresh random draw each epoch. Rotation and shear: degrees either way; zoom 0.2: 0.8 to 1.2
        times; shift: fraction of the width and height; brightness 0.2: 0.8 to 1.2 times. 0 turns one off. Horizontal flip is
        off by default: a mirrored chest has its heart on the wrong side.
      </small>
    </fieldset>
  );
}
