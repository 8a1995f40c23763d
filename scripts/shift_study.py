#!/usr/bin/env python3
"""How a trained model and its unlike-training detector behave under acquisition shifts (docs/benchmarks.md,
"Acquisition shifts, in PyTorch"). A study tool outside the app: it reuses the PyTorch bundle's modules
(src/export/pytorch/xray_trainer), which train and score the app's network as the page does.

  manifest  writes a leave-one-source-out fold's manifest.csv (scripts/sourceFolds.ts' patterns; validation 10% of
            the rest by patient, seeded) for train.py:
              python3 scripts/shift_study.py manifest --data DIR --fold A > manifest_A.csv
              python3 src/export/pytorch/train.py --data DIR --manifest manifest_A.csv --out outA
  study     scores a sample of the test split (at most 200 images, every k-th) as is and shifted, and prints the
            model's decisions on each shift at the threshold chosen on validation (the app's rule: 95% sensitivity),
            the share the detector flags, and the share flagged by variants of the detector (each layer alone, the
            largest scaled distance instead of the sum, other poolings):
              python3 scripts/shift_study.py study --data DIR --manifest manifest_A.csv --model outA/model.zip

DIR is the folder the archive's `chest_xray/train/...` paths start from (the benchmark archive unpacked). The
shifts are bench:accuracy's (scripts/oodShifts.ts), made at the file's own size before the resize to the model's.
"""
import argparse
import csv
import os
import random
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'export', 'pytorch'))
from xray_trainer.images import load_grey  # noqa: E402
from xray_trainer.metrics import binary_metrics, choose_threshold, roc_auc  # noqa: E402
from xray_trainer.model_zip import load_app_model  # noqa: E402
from xray_trainer.ood import class_gaussians, image_detail, mahalanobis_distances  # noqa: E402

FOLDS = {  # scripts/sourceFolds.ts
    'A': r'^(?:NORMAL2-|person1[4-9]\d\d_)',
    'B': r'^(?:IM-|person(?:[1-9]|[1-9]\d|[1-3]\d\d)_)',
    'C': r'^(?:NORMAL2-|person(?:[1-9]|[1-9]\d|[1-3]\d\d)_)',
    'D': r'^(?:IM-|person1[4-9]\d\d_)',
}
GROUP = re.compile(r'^(person\d+|(?:NORMAL\d*-)?IM-\d+)')  # the app's default patient pattern
SHIFTS = ('as is', 'inverted', 'gamma 0.5', 'gamma 2', 'contrast x0.5', 'crop 70%', 'blur 2 px', 'noise', 'sharpen',
          'equalize', 'low-res')
SAMPLE = 200


def fold_manifest(data, fold, seed):
    rows = []
    for cls in ('NORMAL', 'PNEUMONIA'):
        folder = f'chest_xray/train/{cls}'
        for name in sorted(os.listdir(os.path.join(data, folder))):
            group = GROUP.match(name)
            split = 'test' if re.match(FOLDS[fold], name) else 'train'
            rows.append([f'{folder}/{name}', split, cls, group.group(1) if group else name])
    groups = sorted({r[3] for r in rows if r[1] == 'train'})
    random.Random(seed).shuffle(groups)
    validation = set(groups[: len(groups) // 10])
    for row in rows:
        if row[1] == 'train' and row[3] in validation:
            row[1] = 'validation'
    writer = csv.writer(sys.stdout)
    writer.writerow(['path', 'split', 'class', 'group'])
    writer.writerows(rows)


def blurred(grey, sigma):
    """Separable Gaussian blur, edges clamped (as oodShifts.ts)."""
    radius = int(np.ceil(3 * sigma))
    kernel = np.exp(-np.arange(-radius, radius + 1) ** 2 / (2 * sigma ** 2))
    kernel /= kernel.sum()
    h, w = grey.shape
    padded = np.pad(grey, radius, mode='edge')
    rows = sum(k * padded[:, i:i + w] for i, k in enumerate(kernel))
    return sum(k * rows[i:i + h, :] for i, k in enumerate(kernel))


def as_image(grey):
    return Image.fromarray(np.clip(np.round(grey * 255), 0, 255).astype(np.uint8), 'L')


def shifted(grey, shift, rng):
    """One 0..1 grey image at its file size, shifted."""
    h, w = grey.shape
    mean = grey.mean()
    if shift == 'as is':
        return grey
    if shift == 'inverted':
        return 1 - grey
    if shift.startswith('gamma'):
        return grey ** float(shift.split()[1])
    if shift == 'contrast x0.5':
        return mean + 0.5 * (grey - mean)
    if shift == 'noise':
        return grey + 0.1 * rng.standard_normal(grey.shape)
    if shift == 'blur 2 px':
        return blurred(grey, 2 * w / 150)
    if shift == 'sharpen':  # unsharp mask
        return grey + (grey - blurred(grey, 2 * w / 150))
    if shift == 'equalize':
        return np.asarray(ImageOps.equalize(as_image(grey)), dtype=np.float64) / 255
    if shift == 'low-res':
        small = as_image(grey).resize((w // 4, h // 4), Image.BILINEAR)
        return np.asarray(small.resize((w, h), Image.BILINEAR), dtype=np.float64) / 255
    if shift == 'crop 70%':
        box = (round(0.15 * w), round(0.15 * h), round(0.85 * w), round(0.85 * h))
        return np.asarray(as_image(grey).crop(box).resize((w, h), Image.BILINEAR), dtype=np.float64) / 255
    raise ValueError(shift)


def file_grey(path):
    rgb = np.asarray(Image.open(path).convert('RGB'), dtype=np.float64)
    return (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]) / 255


def features(model, pixels):
    """Each image's detail (the input's, before any normalisation), pooled features of every block (mean, std, 2x2
    grid of means), dense_1 and P(positive)."""
    out = {}
    with torch.no_grad():
        for start in range(0, len(pixels), 64):
            x = torch.from_numpy(pixels[start:start + 64]).float().div(255).unsqueeze(1)
            part = {'image detail': image_detail(x)}
            if model.per_image_standardization is not None:
                x = model.per_image_standardization(x)
            for i in range(1, 5):
                x = getattr(model, f'conv2d_{i}')(x)
                if model.model_name == 'batchnorm':
                    x = getattr(model, f'batch_normalization_{i}')(x)
                x = F.max_pool2d(F.relu(x), 2)
                part[f'block {i} mean'] = x.mean(dim=(2, 3))
                part[f'block {i} std'] = x.std(dim=(2, 3))
                part[f'block {i} grid 2x2'] = F.adaptive_avg_pool2d(x, 2).flatten(1)
            part['dense_1'] = F.relu(model.dense_1(x.permute(0, 2, 3, 1).flatten(1)))
            part['score'] = model.head(part['dense_1'])[:, 0]
            for key, value in part.items():
                out.setdefault(key, []).append(value.numpy().astype(np.float64))
    return {key: np.concatenate(parts) for key, parts in out.items()}


DETECTORS = {
    'default: 4 block means + dense_1 + image detail, sum': ([f'block {i} mean' for i in range(1, 5)]
                                                             + ['dense_1', 'image detail'], 'sum'),
    'layers: 4 block means + dense_1, sum': ([f'block {i} mean' for i in range(1, 5)] + ['dense_1'], 'sum'),
    'image detail alone': (['image detail'], 'sum'),
    'layers, largest scaled distance': ([f'block {i} mean' for i in range(1, 5)] + ['dense_1'], 'max'),
    'last: dense_1 alone': (['dense_1'], 'sum'),
    **{f'block {i} mean alone': ([f'block {i} mean'], 'sum') for i in range(1, 5)},
    'block means and stds + dense_1, sum': ([f'block {i} {p}' for i in range(1, 5) for p in ('mean', 'std')]
                                            + ['dense_1'], 'sum'),
    'block 2x2 grids + dense_1, sum': ([f'block {i} grid 2x2' for i in range(1, 5)] + ['dense_1'], 'sum'),
}


def study(args):
    model, _ = load_app_model(args.model)
    size = model.image_size
    rows = list(csv.DictReader(open(args.manifest, newline='', encoding='utf-8')))
    split = {s: [r for r in rows if r['split'] == s] for s in ('train', 'validation', 'test')}
    feats = {}
    for name in ('train', 'validation'):
        pixels = np.stack([load_grey(os.path.join(args.data, r['path']), size) for r in split[name]])
        feats[name] = features(model, pixels)
    labels = {name: np.array([r['class'] == 'PNEUMONIA' for r in split[name]]) for name in ('train', 'validation')}
    test = split['test'][:: max(1, len(split['test']) // SAMPLE)][:SAMPLE]
    sample_labels = np.array([r['class'] == 'PNEUMONIA' for r in test])
    greys = [file_grey(os.path.join(args.data, r['path'])) for r in test]
    rng = np.random.default_rng(12345)
    for shift in SHIFTS:
        pixels = np.stack([np.asarray(as_image(shifted(g, shift, rng)).resize((size, size), Image.BICUBIC),
                                      dtype=np.uint8) for g in greys])
        feats[shift] = features(model, pixels)
    if args.extra:
        paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(args.extra) for f in fs
                       if f.lower().endswith(('.jpeg', '.jpg', '.png')))
        feats['extra'] = features(model, np.stack([load_grey(p, size) for p in paths]))
    threshold = choose_threshold('sensitivity', 95, feats['validation']['score'], labels['validation'])[0]

    fitted = {}
    def scaled(key, name):
        if key not in fitted:
            gaussians = class_gaussians(feats['train'][key], labels['train'].astype(int), 2)
            fitted[key] = (gaussians, np.median(mahalanobis_distances(feats['validation'][key], gaussians)))
        gaussians, median = fitted[key]
        return mahalanobis_distances(feats[name][key], gaussians) / median

    def flags(detector, name):
        keys, combine = DETECTORS[detector]
        score = lambda n: np.stack([scaled(k, n) for k in keys]).__getattribute__(combine)(axis=0)
        return score(name) > np.quantile(score('validation'), 0.95)

    default = next(iter(DETECTORS))
    print(f'{args.model}: {size} px, threshold {threshold:.4f} (95% sensitivity on validation); '
          f'{len(test)} test images a shift')
    print(f'{"shift":14s} accuracy    AUC  sens.  spec.  flagged  accuracy unflagged / flagged')
    for shift in SHIFTS:
        score = feats[shift]['score']
        m = binary_metrics(score, sample_labels, threshold)
        flagged = flags(default, shift)
        right = (score >= threshold) == sample_labels
        acc = lambda mask: f'{right[mask].mean():.3f}' if mask.any() else '  -  '
        print(f'{shift:14s} {m["accuracy"]:8.3f} {roc_auc(score, sample_labels):6.3f} {m["sensitivity"]:6.3f} '
              f'{m["specificity"]:6.3f} {100 * flagged.mean():7.1f}%  {acc(~flagged)} / {acc(flagged)}')
    names = ['validation'] + list(SHIFTS) + (['extra'] if args.extra else [])
    print(f'\nshare flagged (cut: validation\'s 95th percentile of each detector)\n{"detector":40s} '
          + ' '.join(f'{n[:9]:>9s}' for n in names))
    for detector in DETECTORS:
        print(f'{detector:40s} ' + ' '.join(f'{100 * flags(detector, n).mean():8.1f}%' for n in names))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('command', choices=('manifest', 'study'))
    parser.add_argument('--data', required=True)
    parser.add_argument('--fold', choices=sorted(FOLDS), default='A')
    parser.add_argument('--seed', type=int, default=1, help='manifest: the validation draw')
    parser.add_argument('--manifest')
    parser.add_argument('--model')
    parser.add_argument('--extra', help='study: a folder of other images to judge as they are (e.g. full-res films)')
    args = parser.parse_args()
    if args.command == 'manifest':
        fold_manifest(args.data, args.fold, args.seed)
    else:
        if not args.manifest or not args.model:
            parser.error('study needs --manifest and --model')
        study(args)


if __name__ == '__main__':
    main()
