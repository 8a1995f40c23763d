/** The labelled inputs the settings form is made of (each `name` is also the setting's URL key). */

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
export function NumberField({ label, name, min, max, step, value, title, disabled, invalid, onChange }: NumberFieldProps) {
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
  text: Record<T, string>;
  disabled: boolean;
  onChange: (value: T) => void;
}

/** One of a fixed set of values. */
export function ChoiceField<T extends string>({ label, name, value, choices, text, disabled, onChange }: ChoiceFieldProps<T>) {
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
