/** Values at and past each setting's limits, from its row of the settings table (tests only). */
import { settingRow, type SettingPath } from './settings';

export interface Probe {
  value: unknown;
  /** Whether the row's range or list admits it. */
  ok: boolean;
}

/** Just past a limit: a whole step for whole numbers, a hair for the rest. */
function past(limit: number, direction: 1 | -1, integer: boolean): number {
  return limit + direction * (integer ? 1 : Math.max(Math.abs(limit) * 1e-9, 1e-12));
}

export function probes(path: SettingPath): Probe[] {
  const row = settingRow(path);
  switch (row.kind) {
    case 'number': {
      const list: Probe[] = [
        { value: row.min, ok: true },
        { value: row.max, ok: true },
        { value: past(row.min, -1, row.integer), ok: false },
        { value: past(row.max, 1, row.integer), ok: false },
        { value: NaN, ok: false },
        { value: Infinity, ok: false },
        { value: String(row.default), ok: false },
      ];
      if (row.integer) list.push({ value: row.min + 0.5, ok: false });
      return list;
    }
    case 'choice':
      return [
        ...row.values.map((value) => ({ value, ok: true })),
        { value: 'nope', ok: false },
        { value: '', ok: false },
      ];
    case 'switch':
      return [
        { value: true, ok: true },
        { value: false, ok: true },
        { value: 1, ok: false },
        { value: 'true', ok: false },
      ];
    case 'text':
      return [
        { value: row.default, ok: true },
        { value: 'x'.repeat(row.maxLength), ok: true },
        { value: 'x'.repeat(row.maxLength + 1), ok: false },
        { value: 3, ok: false },
        // A checked text refuses blanks ('' too, unless its default is '': then '' turns it off).
        ...(row.check ? [{ value: ' ', ok: false }, ...(row.default === '' ? [] : [{ value: '', ok: false }])] : []),
      ];
  }
}

/** Texts (URL values, form fields as typed) that stand for no usable value. */
export function refusedTexts(path: SettingPath): string[] {
  const row = settingRow(path);
  switch (row.kind) {
    case 'number':
      return [
        ...probes(path).flatMap(({ value, ok }) => (ok || typeof value !== 'number' ? [] : [String(value)])),
        'two',
      ];
    case 'choice':
      return ['nope', row.values[0].toUpperCase()];
    case 'switch':
      return ['maybe', '2'];
    case 'text':
      return ['x'.repeat(row.maxLength + 1)];
  }
}
