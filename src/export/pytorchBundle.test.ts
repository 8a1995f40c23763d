import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobReader, BlobWriter, TextReader, TextWriter, ZipReader, ZipWriter } from '@zip.js/zip.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../core/settings';
import type { Settings } from '../core/types';
import { csvField, manifestCsv, pytorchBundleFiles, scriptFiles, type ManifestRow } from './pytorchBundle';

const PYTHON = '/usr/bin/python3';
const hasTorch =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
const SCRIPT_DIR = dirname(fileURLToPath(new URL('./pytorch/train.py', import.meta.url)));

/** The script's Python files in the repository (train.py and xray_trainer/'s), as paths under pytorch/, sorted. */
function scriptFilesOnDisk(): string[] {
  return readdirSync(SCRIPT_DIR, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.py') && !path.split('/').includes('__pycache__'))
    .sort();
}

const ROWS: ManifestRow[] = [
  { path: 'chest_xray/train/NORMAL/IM-0115-0001.jpeg', split: 'train', className: 'NORMAL', group: 'IM-0115' },
  { path: 'chest_xray/train/PNEUMONIA/person1_virus_6.jpeg', split: 'train', className: 'PNEUMONIA', group: 'person1' },
  { path: 'chest_xray/val/NORMAL/odd, "quoted" name.png', split: 'validation', className: 'NORMAL', group: null },
  {
    path: 'chest_xray/test/PNEUMONIA/person2_bacteria_9.jpeg',
    split: 'test',
    className: 'PNEUMONIA',
    group: 'person2',
  },
];
const CLASSES = ['NORMAL', 'PNEUMONIA'];

/** RFC 4180 as Python's csv module reads it: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    record.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    records.push(record);
    record = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n') endRecord();
    else if (c !== '\r') field += c;
  }
  if (field || record.length) endRecord();
  return records;
}

describe('csvField', () => {
  it('quotes only what needs it, doubling quotes', () => {
    expect(csvField('a/b.jpeg')).toBe('a/b.jpeg');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(' edge')).toBe('" edge"');
    expect(csvField('edge ')).toBe('"edge "');
    expect(csvField('')).toBe('');
  });
});

describe('manifestCsv', () => {
  it('writes the header and one line an image that read back to the same fields', () => {
    const text = manifestCsv(ROWS);
    expect(text.split('\n')[0]).toBe('path,split,class,group');
    expect(text).toContain('\n"chest_xray/val/NORMAL/odd, ""quoted"" name.png",validation,NORMAL,\n');
    expect(text.endsWith('\n')).toBe(true);
    expect(parseCsv(text)).toEqual([
      ['path', 'split', 'class', 'group'],
      ...ROWS.map((row) => [row.path, row.split, row.className, row.group ?? '']),
    ]);
  });

  it('keeps a path with a line break in it one record', () => {
    const rows: ManifestRow[] = [{ path: 'a\nb.png', split: 'train', className: 'x', group: 'g,1' }];
    expect(parseCsv(manifestCsv(rows))).toEqual([
      ['path', 'split', 'class', 'group'],
      ['a\nb.png', 'train', 'x', 'g,1'],
    ]);
  });
});

describe('pytorchBundleFiles', () => {
  const settings: Settings = {
    ...DEFAULT_SETTINGS,
    imageSize: 128,
    epochs: 12,
    augmentation: { ...DEFAULT_SETTINGS.augmentation, rotation: 10 },
  };
  const files = pytorchBundleFiles({ settings, classNames: CLASSES, rows: ROWS });
  const byName = new Map(files.map((file) => [file.name, file.text]));

  it('holds README.md, train.py and its modules, manifest.csv and settings.json', () => {
    const modules = scriptFilesOnDisk().filter((path) => path !== 'train.py');
    expect(modules).toContain('xray_trainer/ood.py');
    expect(files.map((file) => file.name)).toEqual([
      'README.md',
      'train.py',
      ...modules,
      'manifest.csv',
      'settings.json',
    ]);
    for (const file of files) expect(file.text.length).toBeGreaterThan(0);
    expect(byName.get('README.md')).toContain('| `xray_trainer/` | the modules `train.py` runs, one job each');
  });

  it('ships train.py and every module as they are in the repository', () => {
    const onDisk = readFileSync(join(SCRIPT_DIR, 'train.py'), 'utf8');
    expect(byName.get('train.py')).toBe(onDisk);
    expect(onDisk).toMatch(/^#!\/usr\/bin\/env python3\n/);
    expect(onDisk).toContain("if __name__ == '__main__':");
    expect(
      scriptFiles()
        .map((file) => file.name)
        .sort(),
    ).toEqual(scriptFilesOnDisk());
    for (const path of scriptFilesOnDisk()) {
      expect(byName.get(path), path).toBe(readFileSync(join(SCRIPT_DIR, path), 'utf8'));
    }
  });

  it('writes the manifest of the rows', () => {
    expect(byName.get('manifest.csv')).toBe(manifestCsv(ROWS));
  });

  it('writes the settings object as JSON, with the class order', () => {
    const parsed = JSON.parse(byName.get('settings.json')!) as Settings & { classNames: string[] };
    const { classNames, ...rest } = parsed;
    expect(classNames).toEqual(CLASSES);
    expect(rest).toEqual(settings);
    // The keys train.py reads.
    for (const key of [
      'model',
      'imageSize',
      'epochs',
      'batchSize',
      'learningRate',
      'seed',
      'classWeighting',
      'patience',
      'augmentation',
      'thresholdRule',
      'targetSensitivity',
    ]) {
      expect(parsed).toHaveProperty(key);
    }
  });

  it('says how to run it on one machine and on many, and how the model comes back', () => {
    const readme = byName.get('README.md')!;
    expect(readme).toContain('torchrun --nproc_per_node=4 train.py --data DIR');
    expect(readme).toMatch(/--nnodes=2 .*--rdzv_backend=c10d --rdzv_endpoint=HOST:29500/);
    expect(readme).toContain('Load model');
    expect(readme).toContain('model.zip');
    expect(readme).toContain('`DIR/chest_xray/train/NORMAL/IM-0115-0001.jpeg` must exist');
    expect(readme).toContain('- train: 2 images (NORMAL 1, PNEUMONIA 1; 2 patients)');
    expect(readme).toContain('- validation: 1 image (NORMAL 1, PNEUMONIA 0)');
    expect(readme).toContain('model `batchnorm` at 128 px, 12 epochs');
    expect(readme).toContain('augmentation rotation ±10°');
  });

  it('says how to train a snapshot ensemble, and that the settings ask for one when they do', () => {
    const readme = byName.get('README.md')!;
    expect(readme).toContain('python train.py --data DIR --snapshots 3 --epochs 12');
    expect(readme).toContain('this export: 1, a single model');
    expect(readme).toContain('`ensemble_average`');
    expect(readme).not.toContain('a snapshot ensemble of');
    // The key the page's `Snapshot ensemble` setting writes into settings.json.
    const withSnapshots = { ...settings, snapshots: 3 } as Settings;
    const [file] = pytorchBundleFiles({ settings: withSnapshots, classNames: CLASSES, rows: ROWS });
    expect(file.text).toContain('threshold rule `sensitivity`, a snapshot ensemble of 3 (`--snapshots`, below).');
    expect(file.text).toContain('this export: 3)');
    // What the page trained where the settings ask for more: a member an epoch (2 epochs), one model (3 classes).
    const short = { ...settings, snapshots: 3, epochs: 2 } as Settings;
    const files = pytorchBundleFiles({ settings: short, classNames: CLASSES, rows: ROWS });
    const json = (name: string) => JSON.parse(files.find((f) => f.name === name)!.text) as { snapshots: number };
    expect(json('settings.json').snapshots).toBe(2);
    const rows3 = [...ROWS, { ...ROWS[0], className: 'COVID' }];
    const three = pytorchBundleFiles({ settings: withSnapshots, classNames: [...CLASSES, 'COVID'], rows: rows3 });
    expect(JSON.parse(three.find((f) => f.name === 'settings.json')!.text)).toMatchObject({ snapshots: 1 });
  });

  it('says how to train a seed ensemble; settings.json carries the members the page trains', () => {
    expect(byName.get('README.md')).toContain('python train.py --data DIR --seed-models 3');
    const withSeeds = { ...settings, seedModels: 3 } as Settings;
    const files = pytorchBundleFiles({ settings: withSeeds, classNames: CLASSES, rows: ROWS });
    expect(files[0].text).toContain('a seed ensemble of 3 members, ');
    expect(files[0].text).toContain('this export:\n3)');
    const seedsOf = (bundle: typeof files) =>
      (JSON.parse(bundle.find((f) => f.name === 'settings.json')!.text) as { seedModels: number }).seedModels;
    expect(seedsOf(files)).toBe(3);
    // Three classes: the page trains one model, and so does train.py.
    const rows3 = [...ROWS, { ...ROWS[0], className: 'COVID' }];
    expect(seedsOf(pytorchBundleFiles({ settings: withSeeds, classNames: [...CLASSES, 'COVID'], rows: rows3 }))).toBe(
      1,
    );
  });

  it('refuses rows train.py would refuse', () => {
    expect(() =>
      pytorchBundleFiles({ settings, classNames: CLASSES, rows: [{ ...ROWS[0], className: 'COVID' }] }),
    ).toThrow(/class "COVID"/);
    expect(() =>
      pytorchBundleFiles({ settings, classNames: CLASSES, rows: [{ ...ROWS[0], split: 'val' as never }] }),
    ).toThrow(/split "val"/);
    expect(() => pytorchBundleFiles({ settings, classNames: ['only'], rows: ROWS })).toThrow(/at least 2 classes/);
    expect(() => pytorchBundleFiles({ settings, classNames: CLASSES, rows: [] })).toThrow(/no images/);
  });
});

describe('the bundle zip', () => {
  const files = pytorchBundleFiles({ settings: DEFAULT_SETTINGS, classNames: CLASSES, rows: ROWS });
  let root = '';

  /** The files packed as the page packs them (src/ui/runs/downloads.ts), then unpacked into a fresh folder. */
  async function unpackedBundle(): Promise<string> {
    const writer = new ZipWriter(new BlobWriter('application/zip'), { useWebWorkers: false });
    for (const file of files) await writer.add(file.name, new TextReader(file.text));
    const reader = new ZipReader(new BlobReader(await writer.close()), { useWebWorkers: false });
    root = mkdtempSync(join(tmpdir(), 'pytorch-bundle-zip-'));
    const bundle = join(root, 'bundle');
    for (const entry of await reader.getEntries()) {
      if (entry.directory) continue;
      const path = join(bundle, entry.filename);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, await entry.getData!(new TextWriter()));
    }
    await reader.close();
    return bundle;
  }

  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    root = '';
  });

  it('unpacks to exactly the modules on disk, beside the manifest, settings and README', async () => {
    const bundle = await unpackedBundle();
    const unpacked = readdirSync(bundle, { recursive: true, encoding: 'utf8' }).sort();
    const modules = scriptFilesOnDisk();
    const folders = [...new Set(modules.filter((path) => path.includes('/')).map((path) => dirname(path)))];
    expect(unpacked).toEqual([...modules, ...folders, 'README.md', 'manifest.csv', 'settings.json'].sort());
    for (const path of modules)
      expect(readFileSync(join(bundle, path), 'utf8'), path).toBe(readFileSync(join(SCRIPT_DIR, path), 'utf8'));
  });

  it.skipIf(!hasTorch)(
    'runs `python train.py --help` from the unpacked bundle in another working directory',
    async () => {
      const bundle = await unpackedBundle();
      const elsewhere = join(root, 'elsewhere');
      mkdirSync(elsewhere);
      const help = spawnSync(PYTHON, [join(bundle, 'train.py'), '--help'], { cwd: elsewhere, encoding: 'utf8' });
      expect(help.status, help.stderr).toBe(0);
      expect(help.stdout).toMatch(/^usage: train\.py /);
      expect(help.stdout).toContain('--predict MODEL_ZIP');
      expect(help.stdout).toContain('--seed-models SEED_MODELS');
      expect(help.stdout).toContain("Settings not given here come from settings.json (the page's form).");
    },
  );
});
