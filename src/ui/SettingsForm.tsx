import { useState, type FormEvent } from 'react';
import { BACKEND_CHOICES, CLASS_WEIGHTINGS, type BackendChoice, type ClassWeighting, type TrainSettings } from '../worker/protocol';
import { AugmentationFieldset, useAugmentationForm } from './AugmentationFieldset';
import { ChoiceField, NumberField } from './FormFields';
import { SETTING_FIELDS, checkSetting, type NumericSetting } from './settings';

interface Props {
  settings: TrainSettings;
  onChange: (settings: TrainSettings) => void;
  canTrain: boolean;
  training: boolean;
  stopRequested: boolean;
  onTrain: () => void;
  onStop: () => void;
  trainHint: string | null;
}

const BACKEND_TEXT: Record<BackendChoice, string> = {
  auto: 'auto (fastest available)',
  webgpu: 'WebGPU',
  webgl: 'WebGL (GPU)',
  wasm: 'WebAssembly (CPU)',
  cpu: 'plain JavaScript (CPU)',
};

const WEIGHTING_TEXT: Record<ClassWeighting, string> = {
  balanced: 'balanced (rarer classes weigh more)',
  none: 'none (every image weighs the same)',
};

const ORDER: NumericSetting[] = ['imageSize', 'epochs', 'batchSize', 'learningRate', 'seed', 'patience', 'validationPercent', 'testPercent'];

/** Training settings (each also a URL query parameter) and the Train / Stop buttons. */
export function SettingsForm({ settings, onChange, canTrain, training, stopRequested, onTrain, onStop, trainHint }: Props) {
  // Text as typed, so a half-typed number is not overwritten; valid values go up at once.
  const [text, setText] = useState<Record<NumericSetting, string>>(() => textOf(settings));
  const augmentation = useAugmentationForm(settings, onChange);
  const problems = [
    ...ORDER.map((name) => [name, checkSetting(name, Number(text[name]))] as const).filter(([, p]) => p !== null),
    ...augmentation.problems,
  ];

  const update = (name: NumericSetting, value: string) => {
    setText((t) => ({ ...t, [name]: value }));
    const number = Number(value);
    if (value.trim() !== '' && checkSetting(name, number) === null) onChange({ ...settings, [name]: number });
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (problems.length === 0 && canTrain && !training) onTrain();
  };

  return (
    <form className="settings" onSubmit={submit} aria-label="Training settings">
      {ORDER.map((name) => {
        const field = SETTING_FIELDS[name];
        return (
          <NumberField
            key={name}
            label={field.label}
            name={field.key}
            min={field.min}
            max={field.max}
            step={field.integer ? 1 : 'any'}
            value={text[name]}
            title={'hint' in field ? field.hint : undefined}
            disabled={training}
            invalid={checkSetting(name, Number(text[name])) !== null}
            onChange={(value) => update(name, value)}
          />
        );
      })}
      <ChoiceField
        label="Backend"
        name="backend"
        value={settings.backend}
        choices={BACKEND_CHOICES}
        text={BACKEND_TEXT}
        disabled={training}
        onChange={(backend) => onChange({ ...settings, backend })}
      />
      <ChoiceField
        label="Class weights"
        name="weights"
        value={settings.classWeighting}
        choices={CLASS_WEIGHTINGS}
        text={WEIGHTING_TEXT}
        disabled={training}
        onChange={(classWeighting) => onChange({ ...settings, classWeighting })}
      />
      <AugmentationFieldset form={augmentation} disabled={training} />
      <div className="settings__actions">
        <button type="submit" disabled={!canTrain || training || problems.length > 0}>
          Train
        </button>
        <button type="button" onClick={onStop} disabled={!training || stopRequested}>
          Stop
        </button>
        {trainHint && <small>{trainHint}</small>}
      </div>
      {problems.length > 0 && (
        <ul className="settings__problems">
          {problems.map(([name, p]) => (
            <li key={name}>{p}</li>
          ))}
        </ul>
      )}
    </form>
  );
}

function textOf(settings: TrainSettings): Record<NumericSetting, string> {
  return Object.fromEntries(ORDER.map((name) => [name, String(settings[name])])) as Record<NumericSetting, string>;
}
