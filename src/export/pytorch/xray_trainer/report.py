"""What a run reports: a split's figures, the lines printed at the end, history.csv, test_predictions.csv, and
metrics.json's numbers made JSON-safe."""

import csv
import math

import numpy as np

from .metrics import binary_metrics, per_class_metrics, positive_scores, score_metrics
from .ood import OOD_ENSEMBLE_METHOD


def split_report(scores, labels, class_names, positive, threshold):
    loss, _ = score_metrics(scores, labels, len(class_names))
    out = {'images': int(len(labels)), 'loss': loss}
    out.update(binary_metrics(positive_scores(scores, positive).astype(np.float64), labels == positive, threshold))
    if len(class_names) > 2:
        out['multiClass'] = per_class_metrics(scores, labels, class_names)
    return out


def without_nan(value):
    """JSON has no NaN: an undefined figure (e.g. precision when nothing is called positive) is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: without_nan(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nan(item) for item in value]
    return value


def print_report(report):
    rule = report['thresholdRule']
    how = f'fallback: {report["thresholdFallback"]}' if report['thresholdFallback'] else (
        'fixed' if rule == 'fixed' else f'{rule}, chosen on validation')
    for split in ('validation', 'test'):
        r = report.get(split)
        if not r or r['images'] == 0:
            continue
        print(f'{split} ({r["images"]} images), threshold {report["threshold"]:.4g} for {report["positiveClass"]} ({how}): '
              + ', '.join(f'{key} {r[key]:.4f}' for key in ('accuracy', 'auc', 'sensitivity', 'specificity', 'precision', 'f1', 'loss')),
              flush=True)
        if 'multiClass' in r:
            print(f'{split}, most probable class: accuracy {r["multiClass"]["accuracy"]:.4f}; '
                  + ', '.join(f'{c["class"]} recall {c["recall"]:.4f}' for c in r['multiClass']['perClass']), flush=True)
    if 'test' not in report:
        print('The manifest has no test rows: no test figures.', flush=True)
    ood = report.get('outOfDistribution')
    for split in ('validation', 'test'):
        if ood and split in ood and ood[split]['images']:
            r = ood[split]
            score = ('feature-ensemble score (scaled squared Mahalanobis distances summed over layers)'
                     if ood['method'] == OOD_ENSEMBLE_METHOD else 'squared Mahalanobis distance')
            print(f'{split}: {r["flagged"]} of {r["images"]} images are unlike the training data ({100 * r["share"]:.1f}%; '
                  f'{score} above {ood["threshold"]:.4g}, validation\'s {ood["quantile"]:g} quantile)', flush=True)
    if not ood:
        print('The model carries no out-of-distribution statistics: images are not judged.', flush=True)


def write_history(path, history):
    with open(path, 'w', newline='', encoding='utf-8') as handle:
        writer = csv.DictWriter(handle, fieldnames=['epoch', 'loss', 'accuracy', 'val_loss', 'val_accuracy',
                                                    'best_val_loss', 'seconds', 'images_per_second'], lineterminator='\n')
        writer.writeheader()
        writer.writerows(history)


def unlike_mostly(reason):
    """An ood_reason in words for a CSV cell: less-detail / more-detail (the image's detail over the training
    films': below 1 / not), or early-layers:NAME / later-layers:NAME; empty for None (not flagged, or no reason)."""
    if reason is None:
        return ''
    if reason['kind'] == 'detail':
        return 'less-detail' if reason['ratio'] < 1 else 'more-detail'
    return f'{"early" if reason["early"] else "later"}-layers:{reason["layer"]}'


def write_predictions(path, rows, scores, class_names, distances=None, ood_threshold=None, reasons=None,
                      detail_ratio=None):
    """With a detector, two more columns: its score (ood_scores) and whether it is above the cut. With a feature
    ensemble (`reasons`, ood_reasons'), `unlike_mostly`: what a flagged image's score owes most to (unlike_mostly;
    empty for the others), and with its detail member (`detail_ratio`) `detail_ratio`: each image's detail over the
    training films' (4 significant digits); the page's reasons (src/eval/oodReasons.ts)."""
    with open(path, 'w', newline='', encoding='utf-8') as handle:
        writer = csv.writer(handle, lineterminator='\n')
        names = [class_names[1]] if scores.shape[1] == 1 else class_names
        ood = [] if distances is None else ['ood_distance', 'unlike_training_data']
        why = ([] if reasons is None else ['unlike_mostly']) + ([] if detail_ratio is None else ['detail_ratio'])
        writer.writerow(['path', 'class', 'group'] + [f'p_{name}' for name in names] + ood + why)
        for i, (row, score) in enumerate(zip(rows, scores)):
            judged = [] if distances is None else [f'{distances[i]:.9g}', 'yes' if distances[i] > ood_threshold else 'no']
            judged += ([] if reasons is None else [unlike_mostly(reasons[i])]) + (
                [] if detail_ratio is None else [f'{float(detail_ratio[i]):.4g}'])
            writer.writerow([row['path'], row['class'], row['group'] or ''] + [f'{float(s):.9g}' for s in score] + judged)
