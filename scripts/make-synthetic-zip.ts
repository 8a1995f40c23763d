/**
 * Writes a synthetic chest X-ray zip to disk, e.g. to try the app or feed an end-to-end test:
 *   tsx scripts/make-synthetic-zip.ts --out demo.zip [--seed 1] [--train 60] [--val 5] [--test 10]
 *     [--size 64] [--format jpeg|png] [--train-format …] [--val-format …] [--test-format …] [--junk] [--duplicate-tree]
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSyntheticZip, type ImageFormat, type SyntheticZipOptions } from './syntheticZip';

const USAGE = `Usage: tsx scripts/make-synthetic-zip.ts --out path.zip [options]
  --seed N            random seed (default 1)
  --train N           images a class in train/ (default 60)
  --val N             images a class in val/ (default 5)
  --test N            images a class in test/ (default 10)
  --size N            image side in pixels (default 64)
  --format F          jpeg or png for every split (default jpeg)
  --train-format F, --val-format F, --test-format F   per split
  --junk              add __MACOSX, .DS_Store and README.txt entries
  --duplicate-tree    write the tree again under chest_xray/chest_xray/`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function count(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be a whole number of at least ${min}, not "${value}".`);
  return n;
}

function format(value: string | undefined, name: string, fallback: ImageFormat): ImageFormat {
  if (value === undefined) return fallback;
  if (value !== 'jpeg' && value !== 'png') fail(`--${name} must be jpeg or png, not "${value}".`);
  return value;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        out: { type: 'string' },
        seed: { type: 'string' },
        train: { type: 'string' },
        val: { type: 'string' },
        test: { type: 'string' },
        size: { type: 'string' },
        format: { type: 'string' },
        'train-format': { type: 'string' },
        'val-format': { type: 'string' },
        'test-format': { type: 'string' },
        junk: { type: 'boolean', default: false },
        'duplicate-tree': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.out) fail('--out is required.');
  const all = format(values.format, 'format', 'jpeg');
  const options: SyntheticZipOptions = {
    seed: count(values.seed, 'seed', 1),
    perClass: {
      train: count(values.train, 'train', 60),
      val: count(values.val, 'val', 5),
      test: count(values.test, 'test', 10),
    },
    imageSize: count(values.size, 'size', 64, 1),
    formats: {
      train: format(values['train-format'], 'train-format', all),
      val: format(values['val-format'], 'val-format', all),
      test: format(values['test-format'], 'test-format', all),
    },
    junk: values.junk,
    duplicateTree: values['duplicate-tree'],
  };
  const { zip, images, expectedSkips } = await buildSyntheticZip(options);
  const out = resolve(values.out);
  writeFileSync(out, zip);

  const { perClass, formats, imageSize } = options;
  console.log(
    `Wrote ${out} (${(zip.byteLength / 1024).toFixed(1)} KiB, ${images.length} images of ${imageSize} x ${imageSize} px, seed ${options.seed})`,
  );
  for (const folder of ['train', 'val', 'test'] as const) {
    console.log(
      `  chest_xray/${folder}/{NORMAL,PNEUMONIA}: ${perClass[folder]} + ${perClass[folder]} ${formats?.[folder]}`,
    );
  }
  const reasons = new Map<string, number>();
  for (const { reason } of expectedSkips) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  console.log(
    `  other entries (skipped by the app): ${[...reasons].map(([r, n]) => `${n} ${r}`).join(', ') || 'none'}`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
