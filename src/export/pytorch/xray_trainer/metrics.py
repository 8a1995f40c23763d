"""Figures of a split from its probabilities, as the page's (src/eval/metrics.ts, thresholdRules.ts): loss and
accuracy, the decision threshold chosen on validation, ROC AUC, sensitivity, specificity and per-class figures."""

import math

import numpy as np
import torch

from .loss import per_image_cross_entropy


def predicted_classes(probabilities):
    """Binary: class 1 when P(class 1) > 0.5 (tfjs' binaryAccuracy); otherwise the most probable class."""
    if probabilities.shape[1] == 1:
        return (probabilities[:, 0] > 0.5).long()
    return probabilities.argmax(dim=1)


def score_metrics(probabilities, labels, num_classes):
    """Mean cross-entropy and accuracy of a whole split from its scores (the page's evaluate.ts scoreMetrics)."""
    if len(labels) == 0:
        return float('nan'), float('nan')
    p = torch.from_numpy(probabilities).double()
    y = torch.from_numpy(labels).long()
    loss = per_image_cross_entropy(p, y, num_classes).mean().item()
    accuracy = (predicted_classes(p) == y).double().mean().item()
    return loss, accuracy


def default_positive_class(class_names):
    """The class that is not NORMAL (any case) of two, else class 1 (src/eval/metrics.ts)."""
    is_normal = [name.strip().lower() == 'normal' for name in class_names]
    return 0 if len(class_names) == 2 and is_normal[1] and not is_normal[0] else 1


def positive_scores(probabilities, positive):
    if probabilities.shape[1] == 1:
        return probabilities[:, 0] if positive == 1 else 1 - probabilities[:, 0]
    return probabilities[:, positive]


def roc_points(scores, positive_mask):
    """(fpr, tpr, threshold) from the highest distinct score down; empty without both sides (metrics.ts rocCurve)."""
    positives = int(positive_mask.sum())
    negatives = len(scores) - positives
    if positives == 0 or negatives == 0 or np.isnan(scores).any():
        return []
    order = np.argsort(-scores, kind='stable')
    points, tp, fp, k = [], 0, 0, 0
    while k < len(order):
        value = scores[order[k]]
        while k < len(order) and scores[order[k]] == value:
            tp += int(positive_mask[order[k]])
            fp += int(not positive_mask[order[k]])
            k += 1
        points.append((fp / negatives, tp / positives, float(value)))
    return points


def choose_threshold(rule, target_percent, scores, positive_mask):
    """The page's threshold rules (src/eval/thresholdRules.ts), on validation only: fixed 0.5, maximum Youden J
    (the highest threshold on a tie), or the highest threshold reaching the target sensitivity. 0.5 when the rule
    cannot be followed."""
    if rule == 'fixed':
        return 0.5, None
    points = roc_points(scores, positive_mask)
    best = float('nan')
    if rule == 'youden':
        best_j = -math.inf
        for fpr, tpr, threshold in points:
            if tpr - fpr > best_j + 1e-12:
                best_j, best = tpr - fpr, threshold
    else:
        target = target_percent / 100
        best = next((threshold for _, tpr, threshold in points if tpr >= target - 1e-12), float('nan'))
    if math.isfinite(best):
        return best, None
    return 0.5, 'validation has no images of one side of the decision, so 0.5 is used'


def ratio(a, b):
    return a / b if b else float('nan')


def roc_auc(scores, positive_mask):
    """Mann-Whitney U: the share of (positive, negative) pairs the positive wins, a tie counting 1/2."""
    positives = int(positive_mask.sum())
    negatives = len(scores) - positives
    if positives == 0 or negatives == 0 or np.isnan(scores).any():
        return float('nan')
    order = np.argsort(scores, kind='stable')
    u, below, k = 0.0, 0, 0
    while k < len(order):
        value, p, q = scores[order[k]], 0, 0
        while k < len(order) and scores[order[k]] == value:
            p += int(positive_mask[order[k]])
            q += int(not positive_mask[order[k]])
            k += 1
        u += p * below + 0.5 * p * q
        below += q
    return u / (positives * negatives)


def binary_metrics(scores, positive_mask, threshold):
    predicted = scores >= threshold
    tp = int((predicted & positive_mask).sum())
    fp = int((predicted & ~positive_mask).sum())
    fn = int((~predicted & positive_mask).sum())
    tn = int((~predicted & ~positive_mask).sum())
    return {'tp': tp, 'fp': fp, 'tn': tn, 'fn': fn, 'accuracy': ratio(tp + tn, len(scores)),
            'sensitivity': ratio(tp, tp + fn), 'specificity': ratio(tn, tn + fp), 'precision': ratio(tp, tp + fp),
            'f1': ratio(2 * tp, 2 * tp + fp + fn), 'auc': roc_auc(scores, positive_mask)}


def per_class_metrics(probabilities, labels, class_names):
    predicted = predicted_classes(torch.from_numpy(probabilities)).numpy()
    rows = []
    for c, name in enumerate(class_names):
        tp = int(((predicted == c) & (labels == c)).sum())
        rows.append({'class': name, 'precision': ratio(tp, int((predicted == c).sum())),
                     'recall': ratio(tp, int((labels == c).sum())),
                     'f1': ratio(2 * tp, int((predicted == c).sum()) + int((labels == c).sum())),
                     'images': int((labels == c).sum())})
    return {'accuracy': ratio(int((predicted == labels).sum()), len(labels)), 'perClass': rows}
