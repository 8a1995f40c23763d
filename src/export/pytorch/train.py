#!/usr/bin/env python3
"""Train the X-ray trainer's CNN with PyTorch, on one machine or many, from the page's "Export for PyTorch" bundle.

The bundle holds this file, the xray_trainer folder (the modules it runs, one job each), manifest.csv (every
image's path inside your dataset, its split, class and patient group, exactly as the page split them),
settings.json (the page's settings and the class order) and README.md. This file is the entry point: its options,
then training (xray_trainer/training.py) or --predict (xray_trainer/predict.py).

    python train.py --data DIR                                  # one process (CPU, or the first GPU)
    torchrun --nproc_per_node=4 train.py --data DIR --out run1  # 4 processes, DistributedDataParallel

DIR is the folder the manifest's paths start from (where you unzipped the dataset you gave the page). Rank 0
writes to --out: model.zip (the page's format: TensorFlow.js layers model.json + weights.bin + metadata.json; the
page's `Load model` takes it), history.csv, metrics.json (validation figures, and test figures from the manifest's
test rows only) and, with test rows, test_predictions.csv.

    python train.py --data DIR --init model.zip --epochs 0      # evaluate a model downloaded from the page
    python train.py --predict model.zip --images a.jpeg b.png   # probabilities of single images, as JSON
    python train.py --data DIR --snapshots 3 --epochs 12        # a snapshot ensemble of 3, saved as one model

It mirrors the page so that the numbers mean the same: the same network layer for layer (tutorial or batchnorm),
the same preprocessing (EXIF orientation, grey = 0.299 R + 0.587 G + 0.114 B, squashed to S x S, / 255), the same
class weights, augmentation, loss, optimizer and early stopping. Written for torch 1.13 and 2.x; needs numpy and
Pillow (pip install pillow) to read images.
"""

import argparse
import os
import sys

# The modules sit in xray_trainer/ beside this file; Python puts this file's folder first on sys.path when it runs
# it (python train.py, torchrun ... train.py), from whatever working directory.
from xray_trainer.network import INTENSITY_NORMALISATIONS, MAX_MEMBERS, MODEL_NAMES
from xray_trainer.predict import predict
from xray_trainer.training import train


def here(name):
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), name)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog='Settings not given here come from settings.json (the page\'s form).')
    parser.add_argument('--data', help='the folder the paths of manifest.csv start from')
    parser.add_argument('--manifest', default=here('manifest.csv'), help='default: manifest.csv beside this file')
    parser.add_argument('--settings', default=here('settings.json'), help='default: settings.json beside this file')
    parser.add_argument('--out', default='out', help='where rank 0 writes model.zip, history.csv, ... (default: out)')
    parser.add_argument('--epochs', type=int, help='epochs (0: evaluate only, with --init)')
    parser.add_argument('--batch', type=int, help='images a batch in each process (global batch = this x processes)')
    parser.add_argument('--size', type=int, help='image size in px (must match --init\'s model)')
    parser.add_argument('--lr', type=float, help='learning rate')
    parser.add_argument('--schedule', choices=('constant', 'cosine'),
                        help='learning-rate schedule: constant, or cosine decay to 0 over all batches of the run')
    parser.add_argument('--seed', type=int, help='seed of initial weights, shuffling, augmentation and dropout')
    parser.add_argument('--patience', type=int, help='epochs without a new lowest validation loss before stopping; 0 = off')
    parser.add_argument('--snapshots', type=int,
                        help=f'snapshot ensemble of N members (1..{MAX_MEMBERS}; 1 = one model): the epochs split '
                             'into N cosine cycles, each restarting at the learning rate, a snapshot at each '
                             'cycle\'s end, saved as one model averaging them; no early stopping; two classes only')
    parser.add_argument('--seed-models', type=int,
                        help=f'seed ensemble of N members (1..{MAX_MEMBERS}; 1 = one model): N whole runs one after '
                             'another, member k from seed + 1009 k, each with its own early stopping, saved as one '
                             'model averaging them; two classes only')
    parser.add_argument('--model', choices=MODEL_NAMES, help='network (ignored with --init: the model decides)')
    parser.add_argument('--norm', choices=INTENSITY_NORMALISATIONS,
                        help='intensity normalisation: none, or per-image standardisation as the model\'s first layer '
                             '(ignored with --init: the model decides)')
    parser.add_argument('--init', help='start from this model.zip (downloaded from the page, or written here)')
    parser.add_argument('--workers', type=int, help='image decoding processes per training process (default: from the CPUs)')
    parser.add_argument('--device', choices=('auto', 'cpu', 'cuda'), default='auto')
    parser.add_argument('--predict', metavar='MODEL_ZIP', help='only predict --images with this model; prints JSON')
    parser.add_argument('--images', nargs='*', default=[], help='with --predict: image files')
    parser.add_argument('--with-pixels', action='store_true', help='with --predict: also print the preprocessed pixels')
    args = parser.parse_args(argv)
    if args.predict is None and not args.data:
        parser.error('--data DIR is needed (the folder the manifest\'s paths start from), or --predict MODEL_ZIP')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.predict:
        predict(args)
    else:
        train(args)


if __name__ == '__main__':
    main()
