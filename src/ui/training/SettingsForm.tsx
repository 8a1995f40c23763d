import { memo, type FormEvent } from 'react';
import { SETTING_PATHS, isAugmentationPath } from '../../core/settings';
import type { Settings } from '../../core/types';
import { AugmentationFieldset } from './AugmentationFieldset';
import { SettingField, useSettingFields } from '../common/FormFields';

interface Props {
  settings: Settings;
  onChange: (settings: Settings) => void;
  canTrain: boolean;
  training: boolean;
  stopRequested: boolean;
  paused: boolean;
  onPause: (paused: boolean) => void;
  onTrain: () => void;
  onStop: () => void;
  trainHint: string | null;
}

/** Every setting outside the `Augmentation` fieldset, in the table's order. */
const MAIN_PATHS = SETTING_PATHS.filter((path) => !isAugmentationPath(path));

/** Training settings (a field per row of the settings table, each also a URL query parameter) and the Train / Stop buttons. */
export const SettingsForm = memo(function SettingsForm({
  settings,
  onChange,
  canTrain,
  training,
  stopRequested,
  paused,
  onPause,
  onTrain,
  onStop,
  trainHint,
}: Props) {
  const form = useSettingFields(settings, onChange);
  const { problems } = form;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (problems.length === 0 && canTrain && !training) onTrain();
  };

  return (
    <form className="settings" onSubmit={submit} aria-label="Training settings">
      {MAIN_PATHS.map((path) => (
        <SettingField key={path} path={path} form={form} disabled={training} />
      ))}
      <AugmentationFieldset form={form} disabled={training} />
      <div className="settings__actions">
        <button type="submit" disabled={!canTrain || training || problems.length > 0}>
          Train
        </button>
        <button
          type="button"
          onClick={() => onPause(!paused)}
          disabled={!training || stopRequested}
          aria-pressed={paused}
        >
          {paused ? 'Continue' : 'Pause'}
        </button>
        <button type="button" onClick={onStop} disabled={!training || stopRequested}>
          Stop
        </button>
        {trainHint && <small>{trainHint}</small>}
      </div>
      {problems.length > 0 && (
        <ul className="settings__problems">
          {problems.map(([path, p]) => (
            <li key={path}>{p}</li>
          ))}
        </ul>
      )}
    </form>
  );
});
