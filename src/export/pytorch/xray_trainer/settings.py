"""What a run is asked to do: manifest.csv's rows, settings.json with the command line's overrides, and the checks
that refuse, in words, what cannot be run."""

import csv
import json
import os

from .network import ENSEMBLE_TWO_CLASSES, MAX_MEMBERS
from .ood import OOD_CHOICES


SPLITS = ('train', 'validation', 'test')
# The page's default augmentation (core/augmentationRows.ts): the acquisition changes with zoom. A settings.json the
# page wrote carries its own; this is for a run without one.
DEFAULT_AUGMENTATION = {'rotation': 0, 'zoom': 0.2, 'shift': 0, 'shear': 0, 'brightness': 0, 'horizontalFlip': False,
                        'contrast': 0.4, 'gamma': 0.5, 'blur': 1, 'noise': 0.04, 'crop': 0}


def read_manifest(path, class_names):
    """Rows of manifest.csv (path, split, class, group), each with its class index. With no class order given,
    classes are sorted as Keras sorts class folders (code-point order, as Python's sorted)."""
    with open(path, newline='', encoding='utf-8') as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise SystemExit(f'{path} lists no images.')
    for column in ('path', 'split', 'class'):
        if column not in rows[0]:
            raise SystemExit(f'{path} has no "{column}" column: it should start with path,split,class,group.')
    class_names = list(class_names) if class_names else sorted({row['class'] for row in rows})
    index = {name: i for i, name in enumerate(class_names)}
    for number, row in enumerate(rows, start=2):
        if row['split'] not in SPLITS:
            raise SystemExit(f'{path} line {number}: split "{row["split"]}" is none of {", ".join(SPLITS)}.')
        if row['class'] not in index:
            raise SystemExit(f'{path} line {number}: class "{row["class"]}" is not one of {", ".join(class_names)}.')
        row['label'] = index[row['class']]
        row['group'] = row.get('group') or None
    return rows, class_names


def check_files(root, rows):
    missing = [row['path'] for row in rows if not os.path.isfile(os.path.join(root, row['path']))]
    if missing:
        shown = '\n  '.join(missing[:5])
        raise SystemExit(f'{len(missing)} of {len(rows)} images of the manifest are not under --data {root}, e.g.\n  '
                         f'{shown}\n--data must be the folder the manifest\'s paths start from.')


def run_settings(args):
    """settings.json (the page's Settings, plus classNames) with the command line's overrides."""
    settings = {}
    if os.path.isfile(args.settings):
        with open(args.settings, encoding='utf-8') as handle:
            settings = json.load(handle)
    defaults = {'model': 'batchnorm', 'imageSize': 150, 'epochs': 10, 'batchSize': 32, 'learningRate': 0.001,
                'learningRateSchedule': 'cosine', 'intensityNormalisation': 'none', 'labelSmoothing': 0, 'mixup': 0,
                'weightDecay': 1,
                'seed': 1, 'classWeighting': 'balanced', 'patience': 0, 'augmentation': dict(DEFAULT_AUGMENTATION),
                'thresholdRule': 'sensitivity',
                'targetSensitivity': 95, 'classNames': None, 'snapshots': 1, 'seedModels': 1, 'ood': 'detail'}
    merged = {**defaults, **settings}
    for key, value in (('model', args.model), ('imageSize', args.size), ('epochs', args.epochs),
                       ('batchSize', args.batch), ('learningRate', args.lr), ('learningRateSchedule', args.schedule),
                       ('seed', args.seed), ('intensityNormalisation', args.norm),
                       ('patience', args.patience), ('snapshots', args.snapshots), ('seedModels', args.seed_models)):
        if value is not None:
            merged[key] = value
    if merged['epochs'] < 0 or merged['batchSize'] < 1 or merged['patience'] < 0:
        raise SystemExit('Epochs and patience must be 0 or more, the batch size at least 1.')
    snapshots = merged['snapshots']
    if isinstance(snapshots, bool) or not isinstance(snapshots, int) or not 1 <= snapshots <= MAX_MEMBERS:
        raise SystemExit(f'Snapshots must be a whole number from 1 to {MAX_MEMBERS} (got {str(snapshots)[:20]}).')
    seed_models = merged['seedModels']
    if isinstance(seed_models, bool) or not isinstance(seed_models, int) or not 1 <= seed_models <= MAX_MEMBERS:
        raise SystemExit(f'Seed models must be a whole number from 1 to {MAX_MEMBERS} (got {str(seed_models)[:20]}).')
    if not isinstance(merged['ood'], str) or merged['ood'] not in OOD_CHOICES:
        raise SystemExit(f'ood must be "detail" (the feature ensemble with the image\'s fine detail), "layers" (the '
                         f'feature ensemble alone) or "last" (the last hidden layer alone), got '
                         f'{json.dumps(str(merged["ood"]))[:40]}.')
    if seed_models > 1 and snapshots > 1:
        raise SystemExit(f'A seed ensemble of {seed_models} and a snapshot ensemble of {snapshots} cannot be combined '
                         '(the saved model stacks one kind of member): set one of them to 1.')
    return merged


def check_snapshots(settings, num_classes, init_members):
    """Refuses, in words, a snapshot ensemble that cannot be trained, and any training of an ensemble model."""
    if settings['epochs'] > 0 and init_members > 1:
        raise SystemExit(f'--init is a snapshot ensemble ({init_members} members saved as one model): it is for '
                         'predicting and evaluating only and cannot be trained further. Use --epochs 0 to evaluate '
                         'it, or --init a single model.')
    if settings['seedModels'] > 1 and settings['epochs'] > 0:
        if num_classes != 2:
            raise SystemExit(f'A seed ensemble needs exactly 2 classes (the manifest has {num_classes}): each member\'s '
                             'softmax cannot be averaged by the one Dense layer the saved model ends with. Use '
                             '--seed-models 1.')
    if settings['snapshots'] == 1 or settings['epochs'] == 0:
        return
    if num_classes != 2:
        raise SystemExit(ENSEMBLE_TWO_CLASSES.replace('. Use', f' (the manifest has {num_classes} classes). Use'))
    if settings['epochs'] < settings['snapshots']:
        raise SystemExit(f'A snapshot ensemble of {settings["snapshots"]} members needs at least '
                         f'{settings["snapshots"]} epochs (one cycle each), got {settings["epochs"]}: raise --epochs '
                         'or lower --snapshots.')
