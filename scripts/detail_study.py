#!/usr/bin/env python3
"""How much the classes of the archive, and each model's ranking, rest on the films' fine detail (docs/benchmarks.md,
"Fine detail as a shortcut"). A study tool outside the app: it reads the detail as the page's detector does (the
PyTorch bundle's load_grey and image_detail: ln(mean |Laplacian| + 1e-4) at four octaves of the model's input), here
their mean, one number a film.

  archive  the detail of every film of the archive by class and by source (the `IM-` and `NORMAL2-` normal series,
           pneumonia patients by number as scripts/sourceFolds.ts groups them), and the AUC of the detail alone:
             python3 scripts/detail_study.py archive --data DIR
  runs     for each run saved by `npm run bench:accuracy -- … --save runs.json` (its test predictions): the test AUC,
           the detail's own AUC on the same films, the AUC within tenths of the detail (pairs of a normal and a
           pneumonia film of about the same detail: ranking that the detail cannot explain), and the Spearman
           correlation of the model's score with the film's softness (minus its detail) among normal films and among
           pneumonia films; then each variant's means, and its differences from `default` paired by fold and seed:
             python3 scripts/detail_study.py runs --data DIR runs.json [more.json …]

DIR is the folder the archive's `chest_xray/train/...` paths start from (the benchmark archive unpacked).
"""
import argparse
import collections
import json
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'export', 'pytorch'))
from xray_trainer.images import load_grey  # noqa: E402
from xray_trainer.ood import image_detail  # noqa: E402


def film_detail(path, size):
    """The mean over the four octaves of the film's detail at the model's input."""
    pixels = load_grey(path, size)
    x = torch.from_numpy(pixels.copy()).float().mul_(1.0 / 255.0).view(1, 1, *pixels.shape)
    return float(image_detail(x).mean())


def auc(scores, positive):
    """The probability that a positive scores above a negative (ties half)."""
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]
    n1, n0 = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def auc_within_strata(scores, positive, detail, strata=10):
    """The AUC over the pairs of a positive and a negative film in the same tenth of the detail."""
    edges = np.quantile(detail, np.linspace(0, 1, strata + 1))
    stratum = np.clip(np.searchsorted(edges, detail, side='right') - 1, 0, strata - 1)
    concordant, pairs = 0.0, 0
    for k in range(strata):
        s1 = scores[(stratum == k) & positive]
        s0 = scores[(stratum == k) & ~positive]
        concordant += (s1[:, None] > s0[None, :]).sum() + 0.5 * (s1[:, None] == s0[None, :]).sum()
        pairs += len(s1) * len(s0)
    return concordant / pairs if pairs else float('nan')


def spearman(a, b):
    ra = np.argsort(np.argsort(a))
    rb = np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def source_of(name):
    """The film's source as scripts/sourceFolds.ts groups them."""
    if name.startswith('NORMAL2-'):
        return 'NORMAL2- normals'
    if name.startswith('IM-'):
        return 'IM- normals'
    number = re.match(r'person(\d+)_', name)
    if not number:
        return 'other'
    n = int(number.group(1))
    return 'pneumonia, patients < 400' if n < 400 else 'pneumonia, patients >= 1400' if n >= 1400 else \
        'pneumonia, patients 400-1399'


class DetailCache:
    """Each film's detail, read once."""

    def __init__(self, data, size):
        self.data, self.size, self.known = data, size, {}

    def __call__(self, path):
        if path not in self.known:
            self.known[path] = film_detail(os.path.join(self.data, path), self.size)
        return self.known[path]


def archive(args):
    detail = DetailCache(args.data, args.size)
    rows = []
    for label in ('NORMAL', 'PNEUMONIA'):
        folder = os.path.join(args.data, 'chest_xray', 'train', label)
        for name in sorted(os.listdir(folder)):
            rows.append((label, source_of(name), detail(os.path.join('chest_xray', 'train', label, name))))
    print('source | films | mean detail | sd')
    print('--- | --- | --- | ---')
    for source in sorted({r[1] for r in rows}):
        values = np.array([r[2] for r in rows if r[1] == source])
        print(f'{source} | {len(values)} | {values.mean():.3f} | {values.std():.3f}')
    values = np.array([r[2] for r in rows])
    pneumonia = np.array([r[0] == 'PNEUMONIA' for r in rows])
    print(f'\nAUC of the detail alone (less detail: pneumonia), all {len(rows)} films: {auc(-values, pneumonia):.4f}')


def runs(args):
    detail = DetailCache(args.data, args.size)
    results = []
    for path in args.files:
        with open(path, encoding='utf-8') as handle:
            saved = json.load(handle)
        for run in saved if isinstance(saved, list) else saved.get('runs', []):
            positive_class = run['classNames'].index('PNEUMONIA')
            predictions = run['predictions']
            scores = np.array([p['probabilities'][positive_class] for p in predictions])
            positive = np.array([p['label'] == 'PNEUMONIA' for p in predictions])
            softness = -np.array([detail(p['file']) for p in predictions])
            logits = np.log(np.clip(scores, 1e-6, 1) / np.clip(1 - scores, 1e-6, 1))
            results.append({
                'variant': run['model'], 'fold': run['fold'], 'seed': run['seed'],
                'figures': [auc(scores, positive), auc(softness, positive),
                            auc_within_strata(scores, positive, softness),
                            spearman(logits[~positive], softness[~positive]),
                            spearman(logits[positive], softness[positive])]})
    names = ['test AUC', 'detail-only AUC', 'AUC within detail tenths', 'corr(score, softness), normal films',
             'corr, pneumonia films']
    print('variant | fold | seed | ' + ' | '.join(names))
    print(' | '.join(['---'] * (3 + len(names))))
    for r in results:
        print(f"{r['variant']} | {r['fold']} | {r['seed']} | " + ' | '.join(f'{x:.4f}' for x in r['figures']))
    by_variant = collections.defaultdict(list)
    for r in results:
        by_variant[r['variant']].append(r)
    defaults = {(r['fold'], r['seed']): r['figures'] for r in by_variant.get('default', [])}
    print('\nvariant | runs | ' + ' | '.join(f'{n}: mean ± sd' for n in names))
    print(' | '.join(['---'] * (2 + len(names))))
    for variant, rows in by_variant.items():
        figures = np.array([r['figures'] for r in rows])
        cells = [f'{m:.4f} ± {s:.4f}' for m, s in zip(figures.mean(0), figures.std(0, ddof=1) if len(rows) > 1
                                                       else np.zeros(len(names)))]
        print(f'{variant} | {len(rows)} | ' + ' | '.join(cells))
        paired = [np.array(r['figures']) - np.array(defaults[(r['fold'], r['seed'])]) for r in rows
                  if variant != 'default' and (r['fold'], r['seed']) in defaults]
        if paired:
            paired = np.array(paired)
            higher = (paired > 0).sum(0)
            print(f'{variant} − default, paired ({len(paired)}) | | ' + ' | '.join(
                f'{m:+.4f} (higher on {h} of {len(paired)})' for m, h in zip(paired.mean(0), higher)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    for name in ('archive', 'runs'):
        command = commands.add_parser(name)
        command.add_argument('--data', required=True, help='the folder chest_xray/train/... starts from')
        command.add_argument('--size', type=int, default=150, help="the model's input size (default 150)")
        if name == 'runs':
            command.add_argument('files', nargs='+', help='bench:accuracy --save files')
    args = parser.parse_args()
    archive(args) if args.command == 'archive' else runs(args)


if __name__ == '__main__':
    main()
