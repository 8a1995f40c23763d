#!/usr/bin/env python3
"""Would a class-balanced blur in training keep the model from reading softness as pneumonia? A study tool outside
the app (docs/benchmarks.md, "A class-balanced blur in training"), the lever the static study of "Balancing fine
detail between the classes" pointed to: there half the training normals were blurred on disk, and the detector,
fitted on those films, stopped flagging soft ones. Here the blur is drawn in training only, batch by batch, so the
detector (fitted after training on the films as they are) and every score are those of the unchanged films.

    python3 scripts/detail_balance_study.py train --share 0.5 -- --data DIR --manifest m.csv --settings s.json --out o
    python3 scripts/detail_balance_study.py reliance --data DIR o [o2 …]

`train` runs the PyTorch bundle's trainer (src/export/pytorch/train.py, the app's training in PyTorch) with one
change: each time a training film of the class with more fine detail is drawn (the mean over its training films of
the detail the page's detector reads: ln(mean |Laplacian| + 1e-4) over four octaves at the model's input), it is
blurred, with probability `--share`, by a Gaussian of the sigma that brings that class's mean detail to the other
class's (found on up to 150 of its films; `--sigma` sets it instead). The blur comes before the app's augmentation,
as if the film had been made softer; two classes only.

`reliance` reads each output folder's test_predictions.csv and prints the test AUC, the AUC within tenths of the
detail (ranking the detail cannot explain) and the Spearman correlation of the score (a logit) with the film's
softness among normal films and among pneumonia films (scripts/detail_study.py's figures for bench:accuracy runs).
"""
import argparse
import csv
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'src', 'export', 'pytorch'))
sys.path.insert(0, HERE)

from detail_study import auc, auc_within_strata, film_detail, spearman  # noqa: E402
from xray_trainer.augmentation import gaussian_kernel  # noqa: E402
from xray_trainer.images import load_grey  # noqa: E402
from xray_trainer.ood import image_detail  # noqa: E402


def blur(x, sigma):
    """[n, 1, S, S] float -> the same blurred by a Gaussian of `sigma` px, edges mirrored (the page's gaussianBlur)."""
    taps = gaussian_kernel(sigma).to(x.device)
    radius = min((len(taps) - 1) // 2, x.shape[2] - 1, x.shape[3] - 1)
    taps = taps[(len(taps) - 1) // 2 - radius:(len(taps) - 1) // 2 + radius + 1]
    padded = F.pad(x, (radius, radius, radius, radius), mode='reflect')
    return F.conv2d(F.conv2d(padded, taps.view(1, 1, -1, 1)), taps.view(1, 1, 1, -1))


def mean_detail(x):
    return float(image_detail(x).mean())


def matching_sigma(sharp, soft_mean):
    """The sigma (0.2 to 3 px, by bisection) at which the blurred `sharp` films' mean detail is `soft_mean`."""
    low, high = 0.2, 3.0
    for _ in range(20):
        middle = (low + high) / 2
        if mean_detail(blur(sharp, middle)) > soft_mean:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def read_manifest(path):
    with open(path, encoding='utf-8', newline='') as handle:
        return list(csv.DictReader(handle))


def plan(data, manifest, size, class_names, sigma):
    """(the sharper class's index, the sigma) from the manifest's training films."""
    train = [row for row in read_manifest(manifest) if row['split'] == 'train']
    rng = np.random.default_rng(7)
    films = {}
    for index, name in enumerate(class_names):
        rows = [row for row in train if row['class'] == name]
        picked = rng.choice(len(rows), size=min(150, len(rows)), replace=False)
        pixels = np.stack([load_grey(os.path.join(data, rows[i]['path']), size) for i in picked])
        films[index] = torch.from_numpy(pixels).float().mul_(1.0 / 255.0).unsqueeze(1)
    details = {index: mean_detail(x) for index, x in films.items()}
    sharp = max(details, key=details.get)
    soft = min(details, key=details.get)
    chosen = sigma if sigma else matching_sigma(films[sharp], details[soft])
    after = mean_detail(blur(films[sharp], chosen))
    print(f'detail_balance_study: mean detail {", ".join(f"{class_names[k]} {v:.3f}" for k, v in details.items())};'
          f' {class_names[sharp]} blurred by sigma {chosen:.3f} px at {size} px -> {after:.3f}', file=sys.stderr)
    return sharp, chosen


def install(share, sharp, sigma, seed):
    """Wraps the trainer's loader so that a drawn film of class `sharp` is blurred with probability `share`."""
    from xray_trainer import training

    original = training.train_epoch
    random = torch.Generator().manual_seed(seed * 104729 + 3)

    def softened(loader):
        for pixels, labels, indices in loader:
            chosen = (labels == sharp) & (torch.rand(len(labels), generator=random) < share)
            if chosen.any():
                x = pixels[chosen].float().mul_(1.0 / 255.0).unsqueeze(1)
                pixels = pixels.clone()
                pixels[chosen] = blur(x, sigma).squeeze(1).mul_(255.0).round_().clamp_(0, 255).to(pixels.dtype)
            yield pixels, labels, indices

    def train_epoch(trainer, loader, *args, **kwargs):
        return original(trainer, softened(loader), *args, **kwargs)

    training.train_epoch = train_epoch


def train_command(args, rest):
    import json

    import train

    options = {rest[i]: rest[i + 1] for i in range(len(rest) - 1) if rest[i].startswith('--')}
    settings = {}
    if '--settings' in options:
        with open(options['--settings'], encoding='utf-8') as handle:
            settings = json.load(handle)
    # train.py's defaults (xray_trainer/settings.py run_settings) where neither the settings nor the options say.
    size = int(options.get('--size', settings.get('imageSize', 150)))
    class_names = settings.get('classNames') or []
    if len(class_names) != 2:
        sys.exit('detail_balance_study: two classes only, named in the settings file (classNames)')
    sharp, sigma = plan(options['--data'], options['--manifest'], size, class_names, args.sigma)
    install(args.share, sharp, sigma, int(options.get('--seed', settings.get('seed', 1))))
    train.main(rest)


def reliance_command(args):
    cache = {}

    def detail(path):
        if path not in cache:
            cache[path] = film_detail(os.path.join(args.data, path), args.size)
        return cache[path]

    names = ['test AUC', 'AUC within detail tenths', 'corr(score, softness), normal films', 'corr, pneumonia films']
    print('run | films | ' + ' | '.join(names))
    print(' | '.join(['---'] * (2 + len(names))))
    for folder in args.folders:
        rows = read_manifest(os.path.join(folder, 'test_predictions.csv'))
        scores = np.array([float(row['p_PNEUMONIA']) for row in rows])
        positive = np.array([row['class'] == 'PNEUMONIA' for row in rows])
        softness = -np.array([detail(row['path']) for row in rows])
        logits = np.log(np.clip(scores, 1e-6, 1) / np.clip(1 - scores, 1e-6, 1))
        figures = [auc(scores, positive), auc_within_strata(scores, positive, softness),
                   spearman(logits[~positive], softness[~positive]), spearman(logits[positive], softness[positive])]
        print(f'{folder} | {len(rows)} | ' + ' | '.join('nan' if math.isnan(f) else f'{f:.4f}' for f in figures))


def main():
    argv = sys.argv[1:]
    rest = argv[argv.index('--') + 1:] if '--' in argv else []
    argv = argv[:argv.index('--')] if '--' in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    train_parser = commands.add_parser('train', help="train.py with the class-balanced blur; its arguments after --")
    train_parser.add_argument('--share', type=float, default=0.5, help='share of the sharper class blurred (0.5)')
    train_parser.add_argument('--sigma', type=float, help='the blur in px at the model size (default: matched)')
    reliance_parser = commands.add_parser('reliance', help='the detail figures of output folders')
    reliance_parser.add_argument('--data', required=True, help='the folder chest_xray/train/... starts from')
    reliance_parser.add_argument('--size', type=int, default=150, help="the model's input size (default 150)")
    reliance_parser.add_argument('folders', nargs='+', help="train.py --out folders (their test_predictions.csv)")
    args = parser.parse_args(argv)
    if args.command == 'train':
        train_command(args, rest)
    else:
        reliance_command(args)


if __name__ == '__main__':
    main()
