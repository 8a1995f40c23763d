/**
 * The settings in the page's URL (`?size=64&epochs=2&batch=16&lr=0.0005&backend=cpu`, see docs/ui-contract.md):
 * each key, its range and its default come from the settings table (core/settings.ts).
 */
import {
  DEFAULT_SETTINGS,
  SETTING_PATHS,
  checkSettingValue,
  parseSettingText,
  settingRow,
  settingText,
  settingValue,
  withSetting,
  type SettingPath,
} from '../../core/settings';
import type { Settings } from '../../core/types';

export { DEFAULT_SETTINGS };

/** Why a value was refused, in words for the form; null when it is fine. The worker refuses exactly the same. */
export const checkSetting: (path: SettingPath, value: unknown) => string | null = checkSettingValue;

/** Reads settings from a query string on top of `base`, ignoring (and saying in `problems`) values it cannot use. */
export function settingsFromQuery(
  search: string,
  base: Settings = DEFAULT_SETTINGS,
): { settings: Settings; problems: string[] } {
  const params = new URLSearchParams(search);
  let settings: Settings = { ...base, augmentation: { ...base.augmentation } };
  const problems: string[] = [];
  for (const path of SETTING_PATHS) {
    const { query } = settingRow(path);
    const raw = params.get(query);
    if (raw === null || raw.trim() === '') continue;
    const { value, problem } = parseSettingText(path, raw);
    if (problem === null) settings = withSetting(settings, path, value as never);
    else problems.push(`${problem} (URL parameter ${query}=${raw} ignored)`);
  }
  return { settings, problems };
}

/** The query string that reproduces these settings (only what differs from the defaults). */
export function settingsToQuery(settings: Settings): string {
  const params = new URLSearchParams();
  for (const path of SETTING_PATHS) {
    const value = settingValue(settings, path);
    if (value !== settingValue(DEFAULT_SETTINGS, path)) params.set(settingRow(path).query, settingText(path, value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
