/**
 * The types of the settings table's rows: where a setting lives in `Settings`, who reads it, and the row each kind
 * of value takes (number, choice, switch, text). Ground floor: imports only from src/core; no DOM, no tfjs.
 */
import type { AugmentationSettings, EvalSettings, Settings, SplitSettings } from './types';

export type PlainKey = Exclude<keyof Settings, 'augmentation'>;
export type AugmentationKey = keyof AugmentationSettings;

/** Where a setting lives in `Settings`: a field, or `augmentation.<field>`. */
export type SettingPath = PlainKey | `augmentation.${AugmentationKey}`;

/** The type of the value at a path. */
export type SettingValue<P extends SettingPath> = P extends `augmentation.${infer K extends AugmentationKey}`
  ? AugmentationSettings[K]
  : P extends PlainKey
    ? Settings[P]
    : never;

/**
 * Who reads a setting: `train` the worker (a TrainSettings field), `split` only the page as it loads a dataset
 * (SplitSettings), `eval` the page's Results, which send it with each `evaluate` request (EvalSettings: no retraining).
 */
export type SettingUse = 'train' | 'split' | 'eval';

interface RowBase {
  /** The form field's accessible label (see docs/ui-contract.md: tests find fields by it). */
  label: string;
  /** The URL query key that presets it; also the form field's `name`. */
  query: string;
  use: SettingUse;
  /** A sentence the form shows as the field's tooltip. */
  hint?: string;
}

/** A number in `min..max` (a whole number when `integer`). */
export interface NumberRow extends RowBase {
  kind: 'number';
  default: number;
  min: number;
  max: number;
  integer: boolean;
  /** The form field's step; 1 for whole numbers and `any` otherwise when not given. */
  step?: number;
  /** What the number means; the form's tooltip says the range with it (`0 to 180: degrees either way`). */
  unit?: string;
  /** What a run saved before the setting existed trained with, where that is not the default (resuming it). */
  legacy?: number;
}

/** One of a fixed list of values. */
export interface ChoiceRow<T extends string = string> extends RowBase {
  kind: 'choice';
  default: T;
  values: readonly T[];
  /** What the form's list calls each value. */
  text: Readonly<Record<T, string>>;
  /** What a run saved before the setting existed trained with, where that is not the default (resuming it). */
  legacy?: T;
}

/** On or off (a checkbox; in the URL 1/true/on/yes or 0/false/off/no). */
export interface SwitchRow extends RowBase {
  kind: 'switch';
  default: boolean;
}

/** Free text (a text box), checked by `check` when given. */
export interface TextRow extends RowBase {
  kind: 'text';
  default: string;
  maxLength: number;
  /** Why a text cannot be used (starting with the label), or null. */
  check?: (text: string) => string | null;
}

export type SettingRow = NumberRow | ChoiceRow | SwitchRow | TextRow;

// A field typed plain `string` may be free text; a union of literals is always a list.
type StringRow<V extends string> = string extends V ? TextRow | ChoiceRow<V> : ChoiceRow<V>;
type RowFor<V> = [V] extends [number]
  ? NumberRow
  : [V] extends [boolean]
    ? SwitchRow
    : [V] extends [string]
      ? StringRow<V>
      : never;
export type RowOf<P extends SettingPath> = RowFor<SettingValue<P>> & {
  use: P extends keyof SplitSettings ? 'split' : P extends keyof EvalSettings ? 'eval' : 'train';
};

/** The whole table: a row for every setting, typed by its field. */
export type SettingsTable = { readonly [P in SettingPath]: RowOf<P> };
