import type { ImageSet, SplitName } from '../core/types';
import { emptyCounts } from './datasetIndex';
import { mulberry32 } from '../core/random';
import { pickSamples } from './splits';
import { analyseHealth, type ImageFacts } from './health';
import { pixelHash } from './imageHash';
import { meanImageDetail } from '../core/imageDetailSpec';
import { groupIds, patientKey } from './patients';
import type { DecodedDataset } from './types';

/**
 * Synthetic "chest X-rays" for the in-browser demo and for tests: a grey chest with two dark lungs,
 * ribs and noise; PNEUMONIA adds one to three bright, blurred opacities inside the lungs. Positions,
 * sizes and contrast vary, and both classes carry faint small spots as distractors, so the task is not a
 * single-pixel giveaway, yet a small CNN separates the classes within a few epochs even at 32 px.
 * Not medical data, and nothing a model learns from it transfers to real radiographs.
 */
export const DEMO_CLASS_NAMES = ['NORMAL', 'PNEUMONIA'] as const;

const smoothstep = (a: number, b: number, x: number) => {
  const t = Math.min(1, Math.max(0, (x - a) / (b - a)));
  return t * t * (3 - 2 * t);
};

/**
 * Adds a Gaussian blob into `field`, only over its 3-sigma box (the rest would add ~0). The Gaussian
 * is separable, so a row and a column of exponentials make the whole box.
 */
function addBlob(field: Float32Array, size: number, cx: number, cy: number, sigma: number, amplitude: number): void {
  const reach = Math.ceil(3 * sigma);
  const x0 = Math.max(0, Math.floor(cx - reach));
  const x1 = Math.min(size - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach));
  const y1 = Math.min(size - 1, Math.ceil(cy + reach));
  const k = -1 / (2 * sigma * sigma);
  const column = new Float32Array(x1 - x0 + 1);
  for (let x = x0; x <= x1; x++) column[x - x0] = Math.exp((x + 0.5 - cx) ** 2 * k);
  for (let y = y0; y <= y1; y++) {
    const row = amplitude * Math.exp((y + 0.5 - cy) ** 2 * k);
    const offset = y * size;
    for (let x = x0; x <= x1; x++) field[offset + x] += row * column[x - x0];
  }
}

/** One synthetic radiograph, `size` x `size` grey bytes; class 0 NORMAL, class 1 PNEUMONIA. */
export function syntheticImage(classIndex: number, size: number, rng: () => number): Uint8Array {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`syntheticImage: size must be a positive integer, not ${size}`);
  const s = size;
  const jitter = (spread: number) => (rng() - 0.5) * 2 * spread;
  const cx = s * (0.5 + jitter(0.04));
  const cy = s * (0.53 + jitter(0.03));
  const bodyRx = s * (0.42 + jitter(0.03));
  const bodyRy = s * (0.47 + jitter(0.02));
  const lungRx = s * (0.14 + jitter(0.015));
  const lungRy = s * (0.27 + jitter(0.025));
  const lungDx = s * (0.18 + jitter(0.015));
  const lungCy = cy - s * (0.03 + jitter(0.02));
  const ribPeriod = s * (0.085 + jitter(0.01));
  const ribPhase = rng() * Math.PI * 2;
  const contrast = 0.94 + rng() * 0.12;
  const brightness = jitter(6);
  const lungs = [cx - lungDx, cx + lungDx];

  // Anatomy, then opacities and spots added in a separate field so they can be shaped by the lungs.
  // Row and column terms are computed once (this runs for every pixel of hundreds of images).
  const ribs = new Float32Array(s);
  for (let y = 0; y < s; y++) ribs[y] = Math.max(0, Math.sin(((y + 0.5) / ribPeriod) * Math.PI * 2 + ribPhase));
  const spine = new Float32Array(s);
  for (let x = 0; x < s; x++) spine[x] = 22 * (1 - smoothstep(0.04, 0.08, Math.abs(x + 0.5 - cx) / s));
  const base = new Float32Array(s * s);
  const lungMask = new Float32Array(s * s);
  const [leftX, rightX] = lungs;
  for (let y = 0; y < s; y++) {
    const by = (y + 0.5 - cy) / bodyRy;
    const ly = (y + 0.5 - lungCy) / lungRy;
    const ly2 = ly * ly;
    const ribShade = 85 - 14 * ribs[y];
    for (let x = 0; x < s; x++) {
      const bx = (x + 0.5 - cx) / bodyRx;
      const body = Math.sqrt(bx * bx + by * by);
      // Soft-edged chest, with the spine and heart shadow down its middle.
      let v = 18;
      if (body < 1.04)
        v +=
          body < 0.9
            ? 142 + spine[x]
            : 142 * (1 - smoothstep(0.92, 1.04, body)) + spine[x] * (1 - smoothstep(0.9, 1.0, body));
      // Dark lungs, crossed by brighter ribs.
      let lung = 0;
      const lx = (x + 0.5 - leftX) / lungRx;
      const rx = (x + 0.5 - rightX) / lungRx;
      const l2 = lx * lx + ly2;
      const r2 = rx * rx + ly2;
      const d2 = l2 < r2 ? l2 : r2;
      if (d2 < 1.1025) lung = d2 < 0.64 ? 1 : 1 - smoothstep(0.8, 1.05, Math.sqrt(d2));
      base[y * s + x] = v - lung * ribShade;
      lungMask[y * s + x] = lung;
    }
  }

  const extra = new Float32Array(s * s);
  const pointInLung = (spread: number): [number, number] => {
    const lx = lungs[rng() < 0.5 ? 0 : 1];
    const angle = rng() * Math.PI * 2;
    const r = Math.sqrt(rng()) * spread;
    return [lx + Math.cos(angle) * r * lungRx, lungCy + Math.sin(angle) * r * lungRy];
  };
  // Faint small spots (vessels seen end-on) in both classes: a distractor, not a class cue.
  const spots = Math.floor(rng() * 4);
  for (let i = 0; i < spots; i++) {
    const [x, y] = pointInLung(0.8);
    addBlob(extra, s, x, y, s * (0.015 + rng() * 0.015), 20 + rng() * 20);
  }
  if (classIndex === 1) {
    const opacities = 1 + Math.floor(rng() * 3);
    for (let i = 0; i < opacities; i++) {
      const [x, y] = pointInLung(0.55);
      const radius = s * (0.16 + rng() * 0.1);
      addBlob(extra, s, x, y, radius * 0.6, 130 + rng() * 40);
    }
  }

  const out = new Uint8Array(s * s);
  // Film grain: triangular noise of +-8 from the two halves of a xorshift word, seeded by rng
  // (calling rng twice a pixel would cost a third of the time of the whole image).
  let noise = Math.floor(rng() * 0xffffffff) | 1;
  for (let i = 0; i < out.length; i++) {
    noise ^= noise << 13;
    noise ^= noise >>> 17;
    noise ^= noise << 5;
    const grain = ((noise & 0xffff) + ((noise >>> 16) & 0xffff)) / 65535 - 1;
    const v = base[i] + extra[i] * (0.35 + 0.65 * lungMask[i]) + grain * 8;
    // Uint8ClampedArray-style rounding and clamping, by hand: v + 0.5 truncated.
    const level = 128.5 + brightness + contrast * (v - 128);
    out[i] = level <= 0 ? 0 : level >= 255 ? 255 : level;
  }
  return out;
}

export interface SyntheticImage {
  classIndex: number;
  /** 0-based position within its class. */
  index: number;
  pixels: Uint8Array;
}

const SPLIT_SALT: Record<SplitName, number> = { train: 0x7a11, validation: 0x3a1d, test: 0x7e57 };

/**
 * The images of one split, classes interleaved (NORMAL 0, PNEUMONIA 0, NORMAL 1…). Each split has its
 * own random stream, so the test images for a seed stay the same whatever the train count.
 */
export function syntheticSplit(split: SplitName, perClass: number, size: number, seed: number): SyntheticImage[] {
  const rng = mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ SPLIT_SALT[split]) >>> 0);
  const images: SyntheticImage[] = [];
  for (let index = 0; index < perClass; index++) {
    for (let classIndex = 0; classIndex < DEMO_CLASS_NAMES.length; classIndex++) {
      images.push({ classIndex, index, pixels: syntheticImage(classIndex, size, rng) });
    }
  }
  return images;
}

/** The file name an image of the demo set or the synthetic zip gets, e.g. `normal-003`. */
export function syntheticName(classIndex: number, index: number): string {
  return `${DEMO_CLASS_NAMES[classIndex].toLowerCase()}-${String(index + 1).padStart(3, '0')}`;
}

/** Images a synthetic patient has in the demo set, so that grouping by patient has groups to keep together. */
export const DEMO_IMAGES_PER_PATIENT = 3;
/** First patient number of each split: no patient is in two splits of the demo set. */
const PATIENT_BASE: Record<SplitName, number> = { train: 1, validation: 5001, test: 7001 };

/**
 * The demo set's file name of an image, in the real dataset's shapes (data/patients.ts reads the patient
 * back): NORMAL `IM-0001-0002.jpeg`, PNEUMONIA `person1_bacteria_2.jpeg` (virus for every other patient).
 */
export function demoFileName(split: SplitName, classIndex: number, index: number): string {
  const patient = PATIENT_BASE[split] + Math.floor(index / DEMO_IMAGES_PER_PATIENT);
  const image = (index % DEMO_IMAGES_PER_PATIENT) + 1;
  if (classIndex === 0) return `IM-${String(patient).padStart(4, '0')}-${String(image).padStart(4, '0')}.jpeg`;
  return `person${patient}_${patient % 2 ? 'bacteria' : 'virus'}_${index + 1}.jpeg`;
}

/**
 * Default demo size. 300 a class, not fewer: the tutorial CNN (batch 32, RMSprop 1e-3) sits at 50%
 * for its first few dozen steps. With 300 a class a replica of it reached >90% validation accuracy by
 * epoch 3-4 at 32 and 150 px on every one of 5 seeds; with 120 a class it took up to 8 epochs.
 */
export const DEMO_PER_CLASS = { train: 300, validation: 30, test: 30 } as const;

export interface DemoOptions {
  size: number;
  seed?: number;
  perClass?: { train: number; validation: number; test: number };
}

const FOLDER: Record<SplitName, string> = { train: 'train', validation: 'val', test: 'test' };

/** A ready-to-train DecodedDataset of synthetic images, built in memory (no files, no decoding). */
export function makeDemoDataset(options: DemoOptions): DecodedDataset {
  const { size, seed = 1, perClass = DEMO_PER_CLASS } = options;
  for (const [split, n] of Object.entries(perClass)) {
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`makeDemoDataset: perClass.${split} must be a whole number, not ${n}`);
  }
  if (perClass.train < 1) throw new RangeError('makeDemoDataset: perClass.train must be at least 1');
  const started = performance.now();
  const classNames = [...DEMO_CLASS_NAMES];
  const paths: Record<SplitName, string[]> = { train: [], validation: [], test: [] };
  const sets = {} as Record<SplitName, ImageSet>;
  const counts = emptyCounts(classNames);
  const facts: ImageFacts[] = [];
  for (const split of ['train', 'validation', 'test'] as const) {
    const images = syntheticSplit(split, perClass[split], size, seed);
    const set: ImageSet = {
      size,
      count: images.length,
      pixels: new Uint8Array(images.length * size * size),
      labels: new Uint8Array(images.length),
    };
    images.forEach((image, i) => {
      set.pixels.set(image.pixels, i * size * size);
      set.labels[i] = image.classIndex;
      paths[split].push(
        `demo/${FOLDER[split]}/${classNames[image.classIndex]}/${demoFileName(split, image.classIndex, image.index)}`,
      );
      // Drawn at its final size, so hashing here is a sliver of what drawing cost (loaded images are hashed in the decode workers).
      const detail = meanImageDetail(image.pixels, size, size);
      facts.push({
        path: paths[split][i],
        folder: split,
        split,
        className: classNames[image.classIndex],
        patient: patientKey(paths[split][i]),
        file: null,
        pixels: pixelHash(image.pixels),
        width: size,
        height: size,
        detail: Number.isFinite(detail) ? detail : null,
      });
    });
    for (const name of classNames) counts[split][name] = perClass[split];
    sets[split] = set;
  }
  const samples = pickSamples(sets.train.labels, classNames.length, 24, mulberry32(seed)).map((i) => ({
    pixels: sets.train.pixels.slice(i * size * size, (i + 1) * size * size),
    label: classNames[sets.train.labels[i]],
    path: paths.train[i],
    trainIndex: i,
  }));
  const ids = groupIds(
    facts.map((f) => f.path),
    patientKey,
  );
  let at = 0;
  for (const split of ['train', 'validation', 'test'] as const)
    if (ids) sets[split].groups = ids.ids.slice(at, (at += sets[split].count));
  const v = perClass.validation;
  const images = sets.train.count + sets.validation.count + (perClass.test > 0 ? sets.test.count : 0);
  return {
    // Made, not read: nothing listed or read, every pixel drawn at its final size.
    stats: {
      listMs: 0,
      decodeMs: performance.now() - started,
      entries: images,
      images,
      bytesRead: 0,
      readMs: 0,
      sourcePixels: images * size * size,
    },
    classNames,
    size,
    train: sets.train,
    validation: sets.validation,
    test: perClass.test > 0 ? sets.test : null,
    testPaths: perClass.test > 0 ? paths.test : [],
    validationPaths: paths.validation,
    validationPlan: {
      source: 'folder',
      description: `Validation: the demo set's own validation images, ${2 * v} (NORMAL ${v}, PNEUMONIA ${v})`,
    },
    counts,
    health: analyseHealth(facts, classNames),
    skipped: [],
    samples,
  };
}
