"""The loss as the page computes it (src/model/weightedStep.ts, recipe.ts): clipped cross-entropy, hard or against
soft targets, mixup and label smoothing, and the class weights."""

import torch
import torch.nn.functional as F

from .network import KERAS_EPSILON


def per_image_cross_entropy(probabilities, labels, num_classes):
    """Cross-entropy as tfjs computes it (src/model/weightedStep.ts): probabilities clipped to [1e-7, 1 - 1e-7]
    (so a saturated image stops pulling, as on the page); softmax rows rescaled to sum 1 first."""
    if num_classes == 2:
        p = probabilities[:, 0].clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)
        y = labels.float()
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p))
    rows = probabilities / probabilities.sum(dim=1, keepdim=True)
    p = rows.clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)
    return -torch.log(p.gather(1, labels.view(-1, 1))[:, 0])


def soft_cross_entropy(probabilities, targets):
    """Cross-entropy against soft targets (label smoothing, mixup: src/model/recipe.ts), clipped as the page does:
    binary `targets` [n] (P(class 1)), else [n, k] rows."""
    if probabilities.shape[1] == 1:
        p = probabilities[:, 0].clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)
        return -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p))
    rows = probabilities / probabilities.sum(dim=1, keepdim=True)
    return -(targets * torch.log(rows.clamp(KERAS_EPSILON, 1 - KERAS_EPSILON))).sum(dim=1)


def beta_draws(n, alpha, generator):
    """n draws of Beta(alpha, alpha), alpha in (0, 1], by Jöhnk's method as the page (recipe.ts betaSample)."""
    out = torch.empty(n, dtype=torch.float64)
    todo = torch.arange(n)
    while len(todo) > 0:
        x = torch.rand(len(todo), generator=generator, dtype=torch.float64) ** (1 / alpha)
        y = torch.rand(len(todo), generator=generator, dtype=torch.float64) ** (1 / alpha)
        ok = (x + y > 0) & (x + y <= 1)
        out[todo[ok]] = (x / (x + y))[ok]
        todo = todo[~ok]
    return out


def regularised_batch(x, labels, num_classes, class_weight, recipe, generator):
    """The page's mixup and label smoothing (recipe.ts regularisedBatch): image i blended with image n-1-i at its
    share max(l, 1 - l), l ~ Beta(alpha, alpha), targets and class weights alike; then targets moved `labelSmoothing`
    of the way to uniform. Returns images, soft targets and each image's weight."""
    n = len(labels)
    targets = labels.float() if num_classes == 2 else F.one_hot(labels, num_classes).float()
    weights = class_weight[labels]
    if recipe.get('mixup', 0) > 0 and n > 1:
        lam = beta_draws(n, recipe['mixup'], generator)
        share = torch.maximum(lam, 1 - lam).float().to(x.device)
        x = x * share.view(n, 1, 1, 1) + x.flip(0) * (1 - share).view(n, 1, 1, 1)
        targets = targets * share.view(n, *([1] * (targets.dim() - 1))) + targets.flip(0) * (1 - share).view(
            n, *([1] * (targets.dim() - 1)))
        weights = weights * share + weights.flip(0) * (1 - share)
    smoothing = recipe.get('labelSmoothing', 0)
    if smoothing > 0:
        targets = targets * (1 - smoothing) + smoothing / num_classes
    return x, targets, weights


def class_weights(counts, weighting):
    """Per-class loss weights: `balanced` is Keras' (scikit-learn's) total / (classes x count), 0 for a class without
    train images; `none` is all 1."""
    if weighting == 'none':
        return [1.0] * len(counts)
    total = sum(counts)
    return [total / (len(counts) * c) if c > 0 else 0.0 for c in counts]
