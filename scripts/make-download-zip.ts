/**
 * Writes a zip of the shape of the real chest X-ray download (about 2.3 GB on Kaggle), for `bench:ingest`
 * and for trying the app on an archive over 2 GiB:
 *   chest_xray/{train,test,val}/{NORMAL,PNEUMONIA}/*.jpeg   with the public split's counts
 *   chest_xray/chest_xray/...                                the whole tree again (the download holds it twice)
 *   chest_xray/__MACOSX/chest_xray/.../._*.jpeg              macOS resource forks
 *   .DS_Store files in the folders
 * The images are real full-resolution X-rays (the 80 of ../shared/data/chest_xray_fullres_sample.zip, or any
 * zip of JPEGs given by --source) used in turn, so the archive is Zip64 (over 4 GiB with the default source)
 * and decoding costs what it costs on the real download. Stored by default: JPEGs do not compress.
 *
 *   tsx scripts/make-download-zip.ts [--source path.zip] [--out /tmp/xray-download/chest_xray_download.zip] [--scale 1] [--deflate]
 * --scale multiplies every class count (0.1 writes a tenth of the images, for a quick try); --deflate
 * compresses the entries as most zip tools do by default (the app then inflates them on the page).
 */
import { BlobReader, Uint8ArrayReader, Uint8ArrayWriter, ZipReader, ZipWriter } from '@zip.js/zip.js';
import { createWriteStream, mkdirSync, openAsBlob, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';

/** Images per split folder and class in the public dataset (Kermany et al. 2018, Kaggle layout). */
export const DOWNLOAD_COUNTS = {
  train: { NORMAL: 1341, PNEUMONIA: 3875 },
  test: { NORMAL: 234, PNEUMONIA: 390 },
  val: { NORMAL: 8, PNEUMONIA: 8 },
} as const;

/** File names in the dataset's own styles: IM-0115-0001.jpeg, person1_bacteria_1.jpeg, person7_virus_15.jpeg. */
export function downloadFileName(className: string, i: number): string {
  if (className === 'NORMAL')
    return i % 4 === 3
      ? `NORMAL2-IM-${String(1000 + i).padStart(4, '0')}-0001.jpeg`
      : `IM-${String(100 + i).padStart(4, '0')}-0001.jpeg`;
  return `person${i + 1}_${i % 3 === 2 ? 'virus' : 'bacteria'}_${i * 2 + 1}.jpeg`;
}

/** An AppleDouble header, as macOS writes into __MACOSX/._name (what the app must skip). */
const APPLE_DOUBLE = Uint8Array.from([
  0x00,
  0x05,
  0x16,
  0x07,
  0x00,
  0x02,
  0x00,
  0x00,
  ...new Array<number>(4088).fill(0),
]);
const DS_STORE = Uint8Array.from([0x00, 0x00, 0x00, 0x01, 0x42, 0x75, 0x64, 0x31, ...new Array<number>(6136).fill(0)]);

async function readSourceImages(path: string): Promise<Uint8Array[]> {
  const reader = new ZipReader(new BlobReader(await openAsBlob(path)));
  const images: Uint8Array[] = [];
  for (const entry of await reader.getEntries()) {
    if (!entry.directory && /\.jpe?g$/i.test(entry.filename) && !/(^|\/)(__MACOSX|\.)/.test(entry.filename)) {
      images.push(await entry.getData(new Uint8ArrayWriter()));
    }
  }
  await reader.close();
  if (images.length === 0) throw new Error(`${path} holds no JPEG images.`);
  return images;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      source: { type: 'string', default: resolve('../shared/data/chest_xray_fullres_sample.zip') },
      out: { type: 'string', default: join(tmpdir(), 'xray-download', 'chest_xray_download.zip') },
      scale: { type: 'string', default: '1' },
      deflate: { type: 'boolean', default: false },
    },
  });
  const scale = Number(values.scale);
  if (!(scale > 0)) throw new Error(`--scale must be a positive number, not ${values.scale}`);
  const images = await readSourceImages(values.source!);
  const out = resolve(values.out!);
  mkdirSync(dirname(out), { recursive: true });
  const file = createWriteStream(out);
  const zip = new ZipWriter(Writable.toWeb(file) as WritableStream<Uint8Array>, {
    level: values.deflate ? 6 : 0,
    zip64: true,
    useWebWorkers: false,
  });

  let next = 0;
  let unique = 0;
  let written = 0;
  for (const tree of ['chest_xray/', 'chest_xray/chest_xray/']) {
    await zip.add(`${tree}.DS_Store`, new Uint8ArrayReader(DS_STORE));
    for (const [split, classes] of Object.entries(DOWNLOAD_COUNTS)) {
      for (const [className, fullCount] of Object.entries(classes)) {
        const count = Math.max(1, Math.round(fullCount * scale));
        const folder = `${split}/${className}/`;
        await zip.add(`${tree}${folder}.DS_Store`, new Uint8ArrayReader(DS_STORE));
        for (let i = 0; i < count; i++) {
          // The same image for the same name in both trees, as in the download.
          const bytes = images[(i * 7 + className.length + split.length) % images.length];
          const name = downloadFileName(className, i);
          await zip.add(`${tree}${folder}${name}`, new Uint8ArrayReader(bytes));
          if (tree === 'chest_xray/') {
            await zip.add(`chest_xray/__MACOSX/chest_xray/${folder}._${name}`, new Uint8ArrayReader(APPLE_DOUBLE));
            unique++;
          }
          written++;
          if (++next % 1000 === 0) process.stdout.write(`  ${next} images written\n`);
        }
      }
    }
  }
  await zip.close();
  await new Promise<void>((done, fail) => (file.closed ? done() : file.on('close', done).on('error', fail)));
  const bytes = statSync(out).size;
  console.log(
    `Wrote ${out}: ${(bytes / 1024 ** 3).toFixed(2)} GiB, ${written} images (${unique} unique by split/class/name; the rest a duplicate tree), from ${images.length} source JPEGs.`,
  );
}

await main();
