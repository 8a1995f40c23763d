"""The end of a training run (or of an evaluation, --epochs 0): the decision threshold chosen on validation, the
out-of-distribution detector fitted (or the model's own checked), the figures of validation and test, and what
rank 0 writes to --out (history.csv, metrics.json, test_predictions.csv, model.zip)."""

import datetime
import json
import os
import time

import numpy as np
import torch

from .evaluation import evaluate
from .images import INPUT_DECODING, NORMALISATION, resize_text
from .metrics import choose_threshold, default_positive_class, positive_scores
from .model_zip import write_model_zip
from .ood import OOD_CHOICES, fit_feature_ensemble_detector, fit_ood_detector, ood_layers, ood_reasons, ood_summary
from .ood_check import check_ood_detector
from .report import print_report, split_report, without_nan, write_history, write_predictions


def finish_run(args, settings, runtime, model, split_rows, class_names, init_metadata, workers, history,
               trained_epochs, seed_models, started):
    """What follows the epochs, in every process (each scores its share); rank 0 writes. `trained_epochs`: the
    epochs the kept weights had; `seed_models`: the members of a seed ensemble (1 otherwise)."""
    size, num_classes = settings['imageSize'], len(class_names)
    # Final figures: the threshold is chosen on validation, and only the manifest's test rows make test figures.
    val_labels = np.array([r['label'] for r in split_rows['validation']], dtype=np.int64)

    # Unlike the training data: a trained model gets the feature-ensemble detector fitted on its training
    # images, as the page fits one; an evaluated one (--epochs 0) judges with the one its metadata.json carries
    # (either method: a model saved before the feature ensemble judges with dense_1 alone, as then).
    fits_detector = settings['epochs'] > 0 and bool(split_rows['train'])
    detector = None if fits_detector else check_ood_detector(init_metadata.get('outOfDistribution'), model)
    # The page's `Unlike-training detector`: the feature ensemble with the image's detail (`detail`), without it
    # (`layers`), or dense_1 alone (`last`, the one-layer detector).
    fit_layers = OOD_CHOICES[settings['ood']]
    feature_layers = fit_layers if fits_detector else ood_layers(detector) if detector else ()

    def evaluate_split(name):
        return evaluate(model, split_rows[name], args.data, size, settings['batchSize'], runtime, workers,
                        feature_layers=feature_layers)

    val_scores, val_features = evaluate_split('validation')
    positive = default_positive_class(class_names)
    threshold, fallback = choose_threshold(settings['thresholdRule'], settings['targetSensitivity'],
                                           positive_scores(val_scores, positive), val_labels == positive)
    test_scores, test_features = evaluate_split('test') if split_rows['test'] else (None, None)
    if fits_detector:
        _, train_features = evaluate_split('train')
        train_labels = [r['label'] for r in split_rows['train']]
        if settings['ood'] != 'last':
            detector = fit_feature_ensemble_detector(
                train_features, train_labels, val_features, num_classes,
                [(name, pooling, model.ood_layer_width(name, pooling)) for name, pooling in fit_layers])
        else:
            detector = fit_ood_detector(train_features, train_labels, val_features, num_classes)
    if runtime.main:
        os.makedirs(args.out, exist_ok=True)
        write_history(os.path.join(args.out, 'history.csv'), history)
        report = {'validation': split_report(val_scores, val_labels, class_names, positive, threshold)}
        if test_scores is not None:
            test_labels = np.array([r['label'] for r in split_rows['test']], dtype=np.int64)
            report['test'] = split_report(test_scores, test_labels, class_names, positive, threshold)
            # With a feature ensemble, why each flagged image is (and, with the detail member, each one's detail).
            distances, reasons, detail_ratio = ood_reasons(detector, test_features) if detector else (None, None, None)
            write_predictions(os.path.join(args.out, 'test_predictions.csv'), split_rows['test'], test_scores, class_names,
                              distances, detector['threshold'] if detector else None, reasons, detail_ratio)
        report.update({'threshold': threshold, 'thresholdRule': settings['thresholdRule'],
                       'thresholdFallback': fallback, 'positiveClass': class_names[positive]})
        report['outOfDistribution'] = None if detector is None else {
            'method': detector['method'], 'threshold': detector['threshold'], 'quantile': detector['quantile'],
            'validation': ood_summary(detector, val_features),
            **({'test': ood_summary(detector, test_features)} if test_features is not None else {})}
        with open(os.path.join(args.out, 'metrics.json'), 'w', encoding='utf-8') as handle:
            json.dump(without_nan(report), handle, indent=2)
        print_report(report)
        if settings['epochs'] > 0:
            metadata = {
                'model': model.model_name, 'classNames': class_names, 'imageSize': size, 'channels': 1,
                'normalisation': NORMALISATION, 'output': 'sigmoid' if num_classes == 2 else 'softmax',
                'positiveClass': class_names[1] if num_classes == 2 else None,
                'threshold': threshold, 'thresholdClass': class_names[positive],
                'thresholdRule': settings['thresholdRule'],
                'resize': resize_text(size), 'inputDecoding': INPUT_DECODING,
                'trainedEpochs': trained_epochs,
                'backend': f'pytorch {torch.__version__} ({runtime.device.type}, {runtime.world} process(es))',
                'createdAt': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z'),
                'outOfDistribution': detector,
            }
            if model.members > 1:
                metadata['ensemble'] = {'kind': 'seeds' if seed_models > 1 else 'snapshot', 'members': model.members}
            path = write_model_zip(os.path.join(args.out, 'model.zip'), model, settings, metadata)
            runtime.log(f'Wrote {path}: load it in the page with `Load model`.')
        runtime.log(f'Done in {time.time() - started:.1f} s.')
