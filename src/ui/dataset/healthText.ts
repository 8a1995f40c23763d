/**
 * The `Dataset health` report in words: one finding a line, leaks marked as warnings. Pure, so the words
 * are tested without a page (the region itself is DatasetHealth.tsx).
 */
import { SPLIT_NAMES, type GroupBy, type SplitName } from '../../core/types';
import { SHORTCUT_AUC, type ClassShortcut } from '../../data/classShortcuts';
import type { DatasetHealth, DuplicateSet } from '../../data/health';
import { formatCount } from './loadFigures';

export interface Finding {
  /** Stable, for React and for tests. */
  id: 'patients' | 'cross-folder' | 'duplicates-across' | 'duplicates-within' | 'balance' | 'sizes' | 'shortcuts';
  /** A leak or a problem a person should act on. */
  warning: boolean;
  /** Not a leak, but what can make a model fail elsewhere: the classes differ in how their films were made. */
  caution?: boolean;
  text: string;
}

/** How many names a finding quotes before "and N more". */
const NAMED = 5;

const FOLDER_NAME: Record<SplitName, string> = { train: 'train', validation: 'val', test: 'test' };

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

function andMore(items: string[], total: number): string {
  return total > items.length ? `${items.join('; ')}; and ${formatCount(total - items.length)} more` : items.join('; ');
}

function duplicateText(set: DuplicateSet): string {
  return set.images.map((image) => `${image.path} (${image.split})`).join(' = ');
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)}%`;
}

/** Every finding, leaks first within their topic; `groupBy` says why patients may be unknown. */
export function healthFindings(health: DatasetHealth, classNames: readonly string[], groupBy: GroupBy): Finding[] {
  const findings: Finding[] = [];
  const { patients } = health;
  if (patients) {
    findings.push({
      id: 'patients',
      warning: false,
      text: `${plural(patients.total, 'patient')} (by file name) in ${plural(health.images, 'image')}; validation and a test hold-out keep each patient on one side.`,
    });
  } else {
    findings.push({
      id: 'patients',
      warning: false,
      text:
        groupBy === 'none'
          ? 'Grouping is off (Group by: none): images are split one by one, so images of one patient may sit on both sides.'
          : 'No file name says which patient it shows: images are split one by one.',
    });
  }

  const cross = health.crossFolderPatients;
  if (cross.length > 0) {
    const named = cross.slice(0, NAMED).map((p) => {
      const where = SPLIT_NAMES.filter((s) => p.folders[s]).map((s) => `${FOLDER_NAME[s]} ${p.folders[s]}`);
      return `${p.patient} (${where.join(', ')})`;
    });
    findings.push({
      id: 'cross-folder',
      warning: true,
      text: `${plural(cross.length, 'patient appears', 'patients appear')} in more than one split folder, a leak in the archive itself: ${andMore(named, cross.length)}.`,
    });
  } else if (patients) {
    findings.push({ id: 'cross-folder', warning: false, text: 'No patient appears in more than one split folder.' });
  }

  const compared = health.filesHashed ? 'same bytes, or the same decoded pixels' : 'the same pixels';
  const across = health.duplicates.filter((d) => d.acrossSplits);
  const within = health.duplicates.filter((d) => !d.acrossSplits);
  const images = (sets: DuplicateSet[]) => sets.reduce((n, d) => n + d.images.length, 0);
  if (across.length > 0) {
    findings.push({
      id: 'duplicates-across',
      warning: true,
      text: `${plural(across.length, 'image is', 'images are')} duplicated across splits (${plural(images(across), 'file')}; ${compared}), a leak: the model would be checked on what it trained on. ${andMore(across.slice(0, NAMED).map(duplicateText), across.length)}.`,
    });
  }
  if (within.length > 0) {
    findings.push({
      id: 'duplicates-within',
      warning: false,
      text: `${plural(within.length, 'image is', 'images are')} duplicated within one split (${plural(images(within), 'file')}; ${compared}), which weighs them double: ${andMore(within.slice(0, NAMED).map(duplicateText), within.length)}.`,
    });
  }
  if (health.duplicates.length === 0) {
    findings.push({
      id: 'duplicates-across',
      warning: false,
      text: `No duplicate images (${compared}), within or across splits.`,
    });
  }

  const balance = SPLIT_NAMES.flatMap((split) => {
    const counts = health.classCounts[split];
    const total = counts.reduce((a, b) => a + b, 0);
    if (total === 0) return [];
    const shares = classNames.map((name, c) => `${name} ${formatCount(counts[c])} (${percent(counts[c], total)})`);
    const least = Math.min(...counts);
    const ratio = least > 0 ? `, ${(Math.max(...counts) / least).toFixed(1)} : 1` : ', a class is missing';
    return [`${split}: ${shares.join(', ')}${ratio}`];
  });
  findings.push({ id: 'balance', warning: false, text: `Classes per split as used: ${balance.join('; ')}.` });

  const { sizes } = health;
  if (sizes) {
    const unknown = health.images - sizes.known;
    const unknownText = unknown > 0 ? `; ${plural(unknown, 'image')} of unknown size` : '';
    findings.push({
      id: 'sizes',
      warning: false,
      text:
        sizes.distinct === 1
          ? `Stored size: all ${plural(sizes.known, 'image')} are ${sizes.width.min} × ${sizes.height.min} px${unknownText}.`
          : `Stored sizes: width ${formatCount(sizes.width.min)} to ${formatCount(sizes.width.max)} px (median ${formatCount(sizes.width.median)}), height ${formatCount(sizes.height.min)} to ${formatCount(sizes.height.max)} px (median ${formatCount(sizes.height.median)}); ${formatCount(sizes.distinct)} different sizes${unknownText}.`,
    });
  }
  const shortcuts = shortcutFinding(health.shortcuts);
  if (shortcuts) findings.push(shortcuts);
  return findings;
}

/** One property's figures: how the class's films differ from the rest's, and how well that alone tells them apart. */
function shortcutFigures(s: ClassShortcut): string {
  const auc = `AUC ${s.separation.toFixed(2)}`;
  if (s.property === 'detail') return `${s.className} ${s.ratio.toFixed(2)} times theirs, ${auc}`;
  const m = s.medians!;
  const size = (w: number, h: number) => `${formatCount(Math.round(w))} × ${formatCount(Math.round(h))} px`;
  return `median ${size(m.width, m.height)} against ${size(m.otherWidth, m.otherHeight)}, ${auc}`;
}

const PROPERTY_NAME: Record<ClassShortcut['property'], string> = {
  detail: "fine detail at the model's input",
  size: 'stored size',
};

/**
 * The `shortcuts` finding: a caution when fine detail or stored size alone tells a class from the rest (AUC from
 * SHORTCUT_AUC), else how little they do; null when too few images say.
 */
function shortcutFinding(shortcuts: readonly ClassShortcut[] | undefined): Finding | null {
  if (!shortcuts || shortcuts.length === 0) return null;
  const strong = shortcuts.filter((s) => s.separation >= SHORTCUT_AUC);
  const first = strong[0] ?? shortcuts[0];
  const pair = `${first.className} films from ${first.otherClass ? `${first.otherClass} films` : "the other classes' films"}`;
  const listed = (list: readonly ClassShortcut[]) =>
    list.map((s) => `${PROPERTY_NAME[s.property]} (${shortcutFigures(s)})`).join(' and ');
  if (strong.length === 0)
    return { id: 'shortcuts', warning: false, text: `Neither tells ${pair} apart well: ${listed(shortcuts)}.` };
  const why = strong.some((s) => s.property === 'detail')
    ? 'The disease can soften a film, but so can how it was made'
    : 'Stored size comes from how the films were made, not from the disease';
  return {
    id: 'shortcuts',
    warning: false,
    caution: true,
    text:
      `${listed(strong)} alone ${strong.length > 1 ? 'tell' : 'tells'} ${pair} apart. ${why}: where the classes ` +
      'were filmed differently (another scanner, processing or resolution), a model can learn that instead of the ' +
      'disease, and fail where films are made otherwise. After training, Check acquisition shifts shows how it ' +
      'takes softer films; the Blur of Augmentation trains against it.',
  };
}
