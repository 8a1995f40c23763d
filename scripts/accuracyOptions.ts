/**
 * The command line of `npm run bench:accuracy` (scripts/bench-accuracy.ts): the zip, seeds, folds, levers and the
 * settings passed on to the app, each value checked by the app's own settings parser.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { SETTING_PATHS, parseSettingText, settingRow, type SettingPath } from '../src/core/settings';
import type { Lever } from './leverTables';
import { parseFolds, type SourceFold } from './sourceFolds';

export interface Options {
  zip: string;
  seeds: number[];
  /** Every setting to train, each a label and its URL values; the first, with no values, the defaults. */
  variants: Variant[];
  /** The comparisons asked for (`--model`, each `--vary`, each `--variant`): one table each, beside the defaults. */
  levers: Lever[];
  /** Leave-one-source-out folds (`--folds`), each a test split of its own; null: one split, as `--holdout` says. */
  folds: SourceFold[] | null;
  /** URL query keys and values passed on to the app, as the settings table names them. */
  query: Record<string, string>;
  /** `--save`: a JSON file the runs are written to, run by run. */
  save: string | null;
  /** `--merge`: JSON files of earlier runs (`--save`) tabled with these, e.g. the defaults of an earlier study. */
  merge: string[];
  /** `--ood-extra`: an archive whose images each run predicts as they are, to read the share flagged unlike training. */
  oodExtra: string | null;
}

/** Every setting's URL key: the settings table's, so a new setting can be benchmarked without touching this file. */
const QUERY_KEYS = new Map<string, SettingPath>(SETTING_PATHS.map((path) => [settingRow(path).query, path]));

/** The value as the app would read it from its URL; throws the app's own message when it would refuse it. */
function checked(key: string, value: string): string {
  const path = QUERY_KEYS.get(key);
  if (!path)
    throw new Error(
      `Unknown option --${key} (known: --seeds, --folds, --vary, --variant, --ood-extra, ${[...QUERY_KEYS.keys()].map((k) => `--${k}`).join(', ')})`,
    );
  const { problem } = parseSettingText(path, value);
  if (problem) throw new Error(`--${key} ${value}: ${problem}`);
  return value;
}

export interface Variant {
  /** `default`, `key=value`, or a `--variant`'s name. */
  label: string;
  query: Record<string, string>;
}

const DEFAULTS: Variant = { label: 'default', query: {} };

/** One variant a value of `key` (checked by the app's parser). */
function variantsOf(key: string, list: string): Variant[] {
  return list.split(',').map((raw) => {
    const value = checked(key, raw.trim());
    return { label: key === 'model' ? value : `${key}=${value}`, query: { [key]: value } };
  });
}

/** `--variant name:key=value&key=value`: several settings moved together, under one name. */
function namedVariant(text: string): Variant {
  const colon = text.indexOf(':');
  const label = text.slice(0, colon).trim();
  if (colon <= 0 || !label || label === 'default')
    throw new Error(
      '--variant takes <name>:<URL key>=<value>&<URL key>=<value>…, e.g. --variant acq:contrast=0.3&gamma=0.3',
    );
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text.slice(colon + 1))) query[key] = checked(key, value);
  if (Object.keys(query).length === 0) throw new Error(`--variant ${label}: no settings given`);
  return { label, query };
}

/** Adds a lever's variants to the list to train (each once, whatever lever names it) and the lever to the tables. */
function addLever(
  options: Pick<Options, 'variants' | 'levers'>,
  name: string,
  variants: Variant[],
  withDefaults = true,
): void {
  for (const v of variants) {
    const known = options.variants.find((x) => x.label === v.label);
    if (known && JSON.stringify(known.query) !== JSON.stringify(v.query))
      throw new Error(`Two variants are called ${v.label}: name them apart`);
    if (!known) options.variants.push(v);
  }
  const labels = variants.map((v) => v.label).filter((l) => l !== 'default');
  options.levers.push({ name, variants: withDefaults ? ['default', ...labels] : labels });
}

export function parseArgs(argv: string[]): Options {
  let zip: string | null = null;
  let seeds = [1, 2, 3];
  const options: Pick<Options, 'variants' | 'levers'> = { variants: [DEFAULTS], levers: [] };
  let folds: SourceFold[] | null = null;
  let save: string | null = null;
  let oodExtra: string | null = null;
  const merge: string[] = [];
  const query: Record<string, string> = { holdout: '15' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      zip = arg;
      continue;
    }
    const name = arg.slice(2);
    const value = argv[++i];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    if (name === 'seeds') seeds = value.split(',').map((s) => Number(s.trim()));
    else if (name === 'folds') folds = parseFolds(value);
    else if (name === 'save') save = resolve(value);
    else if (name === 'merge') merge.push(resolve(value));
    else if (name === 'ood-extra') oodExtra = resolve(value);
    else if (name === 'variant') {
      const variant = namedVariant(value);
      addLever(options, variant.label, [variant]);
    } else if (name === 'model' || name === 'vary') {
      const [key, list] =
        name === 'model' ? ['model', value] : [value.slice(0, value.indexOf('=')), value.slice(value.indexOf('=') + 1)];
      if (!key || !list)
        throw new Error('--vary takes <URL key>=<value>,<value>…, e.g. --vary schedule=constant,cosine');
      // `--model tutorial,batchnorm` names every model compared: the defaults are one of them, not a column.
      addLever(options, key, variantsOf(key, list), key !== 'model');
    } else query[name] = checked(name, value);
  }
  if (!zip)
    throw new Error(
      'Usage: npm run bench:accuracy -- <zip> [--seeds 1,2,3] [--folds A,B|all] [--model tutorial,batchnorm] [--vary <key>=v1,v2]… [--variant <name>:<key>=v&<key>=v]… [--<URL key of a setting> value]…',
    );
  if (!existsSync(zip)) throw new Error(`No such file: ${zip}`);
  if (oodExtra && !existsSync(oodExtra)) throw new Error(`No such file: ${oodExtra}`);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error('--seeds takes whole numbers, e.g. 1,2,3');
  if (folds && query.testre) throw new Error('--folds sets the test split itself: leave out --testre');
  // The defaults train when a lever compares with them, or when nothing else is asked for.
  const variants =
    options.levers.length > 0 && !options.levers.some((l) => l.variants.includes('default'))
      ? options.variants.slice(1)
      : options.variants;
  const levers = options.levers.length > 0 ? options.levers : [{ name: 'the defaults', variants: ['default'] }];
  return { zip: resolve(zip), seeds, variants, levers, folds, query, save, merge, oodExtra };
}
