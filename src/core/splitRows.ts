/**
 * The rows of how the page splits a dataset as it loads it: validation and test shares, the test hold-out pattern,
 * and how images are grouped into patients (SplitSettings).
 */
import { GROUP_BYS } from './types';
import type { SettingsTable } from './settingRowTypes';

/** Why `text` is not a regular expression JavaScript can use, naming the setting; null when it is one. */
function checkRegExp(label: string, text: string, emptyMeansOff = false): string | null {
  if (text === '' && emptyMeansOff) return null;
  if (text.trim() === '') return `${label} must be a regular expression, not empty.`;
  try {
    new RegExp(text);
    return null;
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error);
    return `${label} must be a valid regular expression (${detail}).`;
  }
}

export const SPLIT_ROWS: Pick<
  SettingsTable,
  'validationPercent' | 'testPercent' | 'testPattern' | 'groupBy' | 'groupPattern'
> = {
  validationPercent: {
    kind: 'number',
    label: 'Validation size',
    query: 'val',
    use: 'split',
    // 10%: the share of train held out when the val folder is too small (data/splits.ts).
    default: 10,
    min: 1,
    max: 50,
    integer: true,
    hint: 'Percent of each class of train held out for validation when the val folder has fewer than 10 images a class',
  },
  testPercent: {
    kind: 'number',
    label: 'Test hold-out',
    query: 'holdout',
    use: 'split',
    // 0: without a test folder the page evaluates on validation, as before; `bench:accuracy` asks for 15.
    default: 0,
    min: 0,
    max: 50,
    integer: true,
    hint: 'Percent of each class of train held out as the test split when the archive has no test folder (0: none)',
  },
  testPattern: {
    kind: 'text',
    label: 'Test hold-out pattern',
    query: 'testre',
    use: 'split',
    // Empty: the Test hold-out percent decides. A pattern holds out what the names say (a series, a site), so the
    // test split can differ from training as a new source does; bench:accuracy uses it for a shift check.
    default: '',
    maxLength: 200,
    check: (text) => checkRegExp('Test hold-out pattern', text, true),
    hint: 'When the archive has no test folder: the train images whose file name matches this regular expression (whole patients) become the test split instead of a random share',
  },
  groupBy: {
    kind: 'choice',
    label: 'Group by',
    query: 'group',
    use: 'split',
    // By patient: the dataset has several images a patient, and an image-level split leaks them (issue 10).
    default: 'patient',
    values: GROUP_BYS,
    text: {
      patient: 'patient (from file name)',
      regex: 'custom regular expression',
      none: 'none (each image alone)',
    },
    hint: 'Validation and the test hold-out never split a patient: images of one patient stay on one side',
  },
  groupPattern: {
    kind: 'text',
    label: 'Patient pattern',
    query: 'groupre',
    use: 'split',
    // The built-in patterns as one expression, a starting point to edit.
    default: '^(person\\d+|(?:NORMAL\\d*-)?IM-\\d+)',
    maxLength: 200,
    check: (text) => checkRegExp('Patient pattern', text),
    hint: 'With Group by = custom regular expression: matched against each file name; the first capture group (else the whole match) names the patient',
  },
};
