/**
 * The page's form fields: the settings form's, made from the rows of the settings table (core/settings.ts), where a
 * row's label is the field's accessible label and its URL key the field's `name`; and the sliders of the other sections.
 */
import { useId, useState } from 'react';
import {
  SETTING_PATHS,
  isAugmentationPath,
  parseSettingText,
  settingRow,
  settingText,
  settingValue,
  withSetting,
  type SettingPath,
} from '../../core/settings';
import type { AugmentationSettings, Settings } from '../../core/types';

// Fields kept as typed (a half-typed number or pattern is not overwritten, and waits until it can be used).
const TYPED_PATHS = SETTING_PATHS.filter(
  (path) => settingRow(path).kind === 'number' || settingRow(path).kind === 'text',
);

type Texts = Partial<Record<SettingPath, string>>;

/** The form's state: number and text fields as typed (a half-typed value is kept), every usable value goes up at once. */
export interface SettingFields {
  settings: Settings;
  text: Texts;
  /** One a typed field whose text cannot be used (Train waits until there is none). */
  problems: [SettingPath, string][];
  /** A number or text field's text as typed. */
  type: (path: SettingPath, text: string) => void;
  /** A value picked outright (a list, a checkbox). */
  set: (path: SettingPath, value: unknown) => void;
  /** Sets every augmentation field at once (a preset). */
  /** The augmentation fields at once (a preset), with other settings the preset goes with (`also`). */
  setAugmentation: (augmentation: AugmentationSettings, also?: Partial<Settings>) => void;
}

function textsOf(settings: Settings, paths: readonly SettingPath[]): Texts {
  return Object.fromEntries(paths.map((path) => [path, settingText(path, settingValue(settings, path))]));
}

export function useSettingFields(settings: Settings, onChange: (settings: Settings) => void): SettingFields {
  const [text, setText] = useState<Texts>(() => textsOf(settings, TYPED_PATHS));
  const problems = TYPED_PATHS.flatMap((path): [SettingPath, string][] => {
    const { problem } = parseSettingText(path, text[path] ?? '');
    return problem === null ? [] : [[path, problem]];
  });
  const set = (path: SettingPath, value: unknown) => onChange(withSetting(settings, path, value as never));
  return {
    settings,
    text,
    problems,
    type: (path, value) => {
      setText((t) => ({ ...t, [path]: value }));
      const parsed = parseSettingText(path, value);
      if (parsed.problem === null) set(path, parsed.value);
    },
    set,
    setAugmentation: (augmentation, also = {}) => {
      const next = { ...settings, ...also, augmentation };
      setText((t) => ({
        ...t,
        ...textsOf(
          next,
          TYPED_PATHS.filter((p) => isAugmentationPath(p) || p in also),
        ),
      }));
      onChange(next);
    },
  };
}

/** The field of one setting: a number, a list or a checkbox, as its row says. */
export function SettingField({ path, form, disabled }: { path: SettingPath; form: SettingFields; disabled: boolean }) {
  const row = settingRow(path);
  const field = { label: row.label, name: row.query, disabled };
  switch (row.kind) {
    case 'number':
      return (
        <NumberField
          {...field}
          min={row.min}
          max={row.max}
          step={row.step ?? (row.integer ? 1 : 'any')}
          value={form.text[path] ?? ''}
          title={row.hint ?? (row.unit && `${row.min} to ${row.max}: ${row.unit}`)}
          invalid={form.problems.some(([p]) => p === path)}
          onChange={(text) => form.type(path, text)}
        />
      );
    case 'choice':
      return (
        <ChoiceField
          {...field}
          value={settingValue(form.settings, path) as string}
          choices={row.values}
          text={row.text}
          onChange={(value) => form.set(path, value)}
        />
      );
    case 'switch':
      return (
        <SwitchField
          {...field}
          checked={settingValue(form.settings, path) === true}
          onChange={(on) => form.set(path, on)}
        />
      );
    case 'text':
      return (
        <label>
          {row.label}
          <input
            type="text"
            name={row.query}
            value={form.text[path] ?? ''}
            maxLength={row.maxLength}
            title={row.hint}
            spellCheck={false}
            disabled={disabled}
            aria-invalid={form.problems.some(([p]) => p === path)}
            onChange={(e) => form.type(path, e.target.value)}
          />
        </label>
      );
  }
}

interface NumberFieldProps {
  label: string;
  name: string;
  min: number;
  max: number;
  step: number | 'any';
  value: string;
  title?: string;
  disabled: boolean;
  invalid: boolean;
  onChange: (text: string) => void;
}

/** A number as typed (kept as text, so a half-typed value is not overwritten). */
export function NumberField({
  label,
  name,
  min,
  max,
  step,
  value,
  title,
  disabled,
  invalid,
  onChange,
}: NumberFieldProps) {
  return (
    <label>
      {label}
      <input
        type="number"
        name={name}
        min={min}
        max={max}
        step={step}
        value={value}
        title={title}
        disabled={disabled}
        aria-invalid={invalid}
        onChange={(e) => onChange(e.target.value)}
      />
    </label>
  );
}

interface ChoiceFieldProps<T extends string> {
  label: string;
  name: string;
  value: T;
  choices: readonly T[];
  /** What each choice is called in the list. */
  text: Readonly<Record<T, string>>;
  disabled: boolean;
  onChange: (value: T) => void;
}

/** One of a fixed set of values. */
export function ChoiceField<T extends string>({
  label,
  name,
  value,
  choices,
  text,
  disabled,
  onChange,
}: ChoiceFieldProps<T>) {
  return (
    <label>
      {label}
      <select name={name} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value as T)}>
        {choices.map((choice) => (
          <option key={choice} value={choice}>
            {text[choice]}
          </option>
        ))}
      </select>
    </label>
  );
}

interface SwitchFieldProps {
  label: string;
  name: string;
  checked: boolean;
  disabled: boolean;
  onChange: (on: boolean) => void;
}

/** On or off. */
export function SwitchField({ label, name, checked, disabled, onChange }: SwitchFieldProps) {
  return (
    <label className="settings__check">
      <input
        type="checkbox"
        name={name}
        checked={checked}
        disabled={disabled}
        onChange={(e) => onChange(e.target.checked)}
      />
      {label}
    </label>
  );
}

interface RangeFieldProps {
  label: string;
  min: number;
  max: number;
  step: number;
  value: number;
  /** The value as the page shows it beside the label (`Decision threshold: 0.50`); nothing shown when absent. */
  shown?: string;
  onChange: (value: number) => void;
}

/** A slider named by its label alone (not by its changing value), with the value shown as text where wanted. */
export function RangeField({ label, min, max, step, value, shown, onChange }: RangeFieldProps) {
  const id = useId();
  return (
    <span className="range-field">
      <span className="range-field__caption">
        <label htmlFor={id}>{label}</label>
        {shown !== undefined && (
          <>
            : <output htmlFor={id}>{shown}</output>
          </>
        )}
      </span>{' '}
      <input
        id={id}
        type="range"
        min={min}
        max={max}
        step={step}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
      />
    </span>
  );
}
