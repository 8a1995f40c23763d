/**
 * What, besides the disease, tells the classes of a dataset apart: the films' fine detail at the model's input and
 * their stored size. In the public chest X-ray archive the pneumonia films carry about 0.72 times the normal films'
 * fine detail and are smaller (docs/benchmarks.md, "Fine detail as a shortcut"); a model can learn either instead of
 * the disease and then fail where films are made otherwise. Pure analysis of the facts the loader has, over the
 * training images (what a model learns from).
 */
import type { SplitName } from '../core/types';
import { rocAuc } from '../core/rocAuc';

/** What the analysis reads of an image (health.ts' ImageFacts has it). */
export interface FilmFacts {
  split: SplitName;
  className: string;
  /** Stored size from the file's header; 0 when unknown. */
  width: number;
  height: number;
  /** Fine detail at the model's input (core/imageDetailSpec.ts' meanImageDetail); null or absent when unknown. */
  detail?: number | null;
}

/** The fewest images a class needs before its films are compared with the rest. */
export const MIN_IMAGES_A_CLASS = 20;
/** From this AUC (either way) a property alone tells a class from the rest well enough to be a shortcut. */
export const SHORTCUT_AUC = 0.75;

export interface ClassShortcut {
  property: 'detail' | 'size';
  /** The class whose films differ most from the rest's. */
  className: string;
  /** The rest: the other class of two, else null (all the other classes). */
  otherClass: string | null;
  /** detail: the class's fine detail over the rest's (geometric means); size: its median area over the rest's. */
  ratio: number;
  /** How well the property alone tells the class from the rest: the AUC, folded to 0.5..1. */
  separation: number;
  /** size only: the median width and height of the class's films and of the rest's. */
  medians?: { width: number; height: number; otherWidth: number; otherHeight: number };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

/** Of every class against the rest, the one `value` tells apart best; null when too few images say. */
function mostApart(
  facts: readonly FilmFacts[],
  classNames: readonly string[],
  value: (f: FilmFacts) => number | null,
): { className: string; inClass: FilmFacts[]; rest: FilmFacts[]; auc: number } | null {
  const known = facts.filter((f) => {
    const v = value(f);
    return v !== null && Number.isFinite(v);
  });
  // With two classes, the second against the first (in a chest X-ray archive: the disease against normal).
  const candidates = classNames.length === 2 ? classNames.slice(1) : classNames;
  let best: { className: string; inClass: FilmFacts[]; rest: FilmFacts[]; auc: number } | null = null;
  for (const className of candidates) {
    const inClass = known.filter((f) => f.className === className);
    const rest = known.filter((f) => f.className !== className);
    if (inClass.length < MIN_IMAGES_A_CLASS || rest.length < MIN_IMAGES_A_CLASS) continue;
    const scores = [...inClass, ...rest].map((f) => value(f)!);
    const auc = rocAuc(
      scores,
      scores.map((_, i) => i < inClass.length),
    );
    if (!best || Math.abs(auc - 0.5) > Math.abs(best.auc - 0.5)) best = { className, inClass, rest, auc };
  }
  return best;
}

/** The detail and size findings over the training images (all images when none is marked train). */
export function classShortcuts(facts: readonly FilmFacts[], classNames: readonly string[]): ClassShortcut[] {
  if (classNames.length < 2) return [];
  const train = facts.filter((f) => f.split === 'train');
  const used = train.length > 0 ? train : facts;
  const otherClass = classNames.length === 2 ? classNames[0] : null;
  const found: ClassShortcut[] = [];
  const detail = mostApart(used, classNames, (f) => f.detail ?? null);
  if (detail) {
    found.push({
      property: 'detail',
      className: detail.className,
      otherClass,
      ratio: Math.exp(mean(detail.inClass.map((f) => f.detail!)) - mean(detail.rest.map((f) => f.detail!))),
      separation: Math.max(detail.auc, 1 - detail.auc),
    });
  }
  const area = (f: FilmFacts) => (f.width > 0 && f.height > 0 ? f.width * f.height : null);
  const size = mostApart(used, classNames, area);
  if (size) {
    const widths = (list: FilmFacts[]) => median(list.map((f) => f.width));
    const heights = (list: FilmFacts[]) => median(list.map((f) => f.height));
    found.push({
      property: 'size',
      className: size.className,
      otherClass,
      ratio: median(size.inClass.map((f) => area(f)!)) / median(size.rest.map((f) => area(f)!)),
      separation: Math.max(size.auc, 1 - size.auc),
      medians: {
        width: widths(size.inClass),
        height: heights(size.inClass),
        otherWidth: widths(size.rest),
        otherHeight: heights(size.rest),
      },
    });
  }
  return found;
}
