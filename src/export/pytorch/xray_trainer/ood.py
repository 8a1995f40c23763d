"""Unlike the training data: the page's out-of-distribution detectors (src/eval/outOfDistribution.ts,
featureEnsemble.ts). Class Gaussians with a shared Ledoit-Wolf covariance on one layer (dense_1) or on each layer of
OOD_LAYERS (the feature ensemble, with the image's fine detail beside them: image_detail) and their scores. A
detector read from a model.zip is checked in ood_check.py."""

import math

import numpy as np
import torch
import torch.nn.functional as F


# One layer's features (dense_1): the detector of models saved before the feature ensemble, still judged as then.
OOD_METHOD = 'mahalanobis-tied-covariance'
# Lee et al. 2018's feature ensemble over OOD_LAYERS (and by default the image's detail): what training fits now (the
# page's, src/eval/featureEnsemble.ts).
OOD_ENSEMBLE_METHOD = 'mahalanobis-feature-ensemble'
# The layers the feature ensemble reads, in the order an image's features are concatenated, and how each layer's
# output becomes numbers: the page's OOD_LAYERS (src/export/pytorchOodFit.test.ts checks that the two agree).
OOD_LAYERS = (('max_pooling2d_1', 'spatial-mean'), ('max_pooling2d_2', 'spatial-mean'),
              ('max_pooling2d_3', 'spatial-mean'), ('max_pooling2d_4', 'spatial-mean'), ('dense_1', 'none'))
# The pseudo-layer of the model's input: how much fine detail the image has at DETAIL_OCTAVES scales (image_detail),
# last in the row of the page's default (`ood` detail), as the page's OOD_LAYERS_WITH_DETAIL. The network's pooled
# features barely move under blur, a lower resolution or a tighter frame; these numbers do.
IMAGE_DETAIL_LAYER = ('image', 'detail-octaves')
DETAIL_OCTAVES = 4
MIN_DETAIL_SIZE = 3 << (DETAIL_OCTAVES - 1)  # 3 x 3 pixels left at the last octave (24 >> 3 = 3).
DETAIL_EPSILON = 1e-4  # Keeps the logarithm finite on a flat image.
OOD_POOLINGS = ('spatial-mean', 'none', 'detail-octaves')
# What each value of the page's `ood` setting fits after training: the layers with the image's detail (the
# default), the layers alone, or dense_1 alone (one-layer detector).
OOD_CHOICES = {'detail': OOD_LAYERS + (IMAGE_DETAIL_LAYER,), 'layers': OOD_LAYERS, 'last': (('dense_1', 'none'),)}
OOD_QUANTILE = 0.95  # About 5% of validation images are flagged.
OOD_RIDGE = 1e-6  # Added to the covariance's diagonal, relative to its mean variance (as the page).
OOD_MAX_FEATURES = 4096
OOD_MAX_CLASSES = 1000
OOD_MAX_LAYERS = 16


def image_detail(x):
    """[n, DETAIL_OCTAVES] fine detail of the model's input x ([n, c, h, w], grey / 255, before any normalisation
    inside the model; channels averaged), as the page's imageDetail (src/model/imageDetail.ts): for each octave
    ln(mean |Laplacian| + DETAIL_EPSILON), the 3x3 Laplacian over the pixels it covers whole, then a 2x2 average
    (an odd last row or column dropped) for the next. float32, as the page."""
    x = x.float()
    if x.shape[1] != 1:
        x = x.mean(dim=1, keepdim=True)
    if min(x.shape[2:]) < MIN_DETAIL_SIZE:
        raise ValueError(f'Image detail needs images of at least {MIN_DETAIL_SIZE} pixels a side.')
    kernel = x.new_tensor([[0, -1, 0], [-1, 4, -1], [0, -1, 0]]).view(1, 1, 3, 3)
    octaves = []
    for k in range(DETAIL_OCTAVES):
        if k > 0:
            x = F.avg_pool2d(x, 2, 2)
        edges = F.conv2d(x, kernel).abs()
        octaves.append(torch.log(edges.mean(dim=(2, 3)) + DETAIL_EPSILON))
    return torch.cat(octaves, dim=1)


def ledoit_wolf(x):
    """Ledoit-Wolf shrinkage of the covariance of the centred rows of x, as sklearn.covariance.ledoit_wolf
    (assume_centered) and the page (src/eval/outOfDistribution.ts); then OOD_RIDGE x mu on the diagonal."""
    n, p = x.shape
    s = x.T @ x / n
    mu = np.trace(s) / p
    squares = float(np.sum(s * s))
    beta = float(np.sum(np.sum(x * x, axis=1) ** 2))
    beta = (beta / n - squares) / (p * n)
    delta = (squares - 2 * mu * np.trace(s) + p * mu * mu) / p
    beta = min(beta, delta)
    shrinkage = 0.0 if beta <= 0 or delta <= 0 else beta / delta
    covariance = (1 - shrinkage) * s + (shrinkage * mu + OOD_RIDGE * mu + np.finfo(np.float64).tiny) * np.eye(p)
    return covariance, shrinkage


def nearest_class_distances(features, gaussians):
    """(squared Mahalanobis distance of each row to the nearest class mean, under the shared precision; that class's
    index in classMeans, the first on a tie, as the page's mahalanobisDistances)."""
    features = np.asarray(features, dtype=np.float64)
    precision = np.asarray(gaussians['precision'], dtype=np.float64)
    best = np.full(len(features), np.inf)
    nearest = np.zeros(len(features), dtype=np.int64)
    for c, mean in enumerate(np.asarray(gaussians['classMeans'], dtype=np.float64)):
        d = features - mean
        distances = np.einsum('ij,jk,ik->i', d, precision, d)
        closer = distances < best
        best[closer] = distances[closer]
        nearest[closer] = c
    return best, nearest


def mahalanobis_distances(features, gaussians):
    """Squared Mahalanobis distance of each row to the nearest class mean, under the shared precision (of a
    one-layer detector, or of one layer of a feature ensemble)."""
    return nearest_class_distances(features, gaussians)[0]


def class_gaussians(train_features, train_labels, num_classes):
    """One layer's fit (Lee et al. 2018): the means of the classes with images, and the precision of the tied
    covariance around them, shrunk by Ledoit-Wolf; {'classMeans', 'precision', 'shrinkage'}."""
    x = np.asarray(train_features, dtype=np.float64)
    labels = np.asarray(train_labels, dtype=np.int64)
    present = [c for c in range(num_classes) if np.any(labels == c)]
    means = np.zeros((num_classes, x.shape[1]))
    for c in present:
        means[c] = x[labels == c].mean(axis=0)
    covariance, shrinkage = ledoit_wolf(x - means[labels])
    precision = np.linalg.inv(covariance)
    # Symmetric to the last bit, as the page checks.
    precision = (precision + precision.T) / 2
    return {'classMeans': means[present].tolist(), 'precision': precision.tolist(), 'shrinkage': float(shrinkage)}


def fit_ood_detector(train_features, train_labels, validation_features, num_classes, feature_layer='dense_1'):
    """The page's one-layer detector (fitOodDetector): class_gaussians of the training features; the cut is
    validation's OOD_QUANTILE of the squared distances."""
    x = np.asarray(train_features, dtype=np.float64)
    detector = {'method': OOD_METHOD, 'featureLayer': feature_layer, **class_gaussians(x, train_labels, num_classes),
                'threshold': 0.0, 'quantile': OOD_QUANTILE, 'trainImages': int(len(x)),
                'validationImages': int(len(validation_features))}
    cut_on = validation_features if len(validation_features) else x
    distances = mahalanobis_distances(cut_on, detector)
    detector['threshold'] = float(np.quantile(distances, OOD_QUANTILE) if len(validation_features) else distances.max())
    return detector


def layer_columns(widths):
    """The column slice of each layer in a row of the layers' features concatenated."""
    ends = np.cumsum(widths)
    return [slice(int(end - width), int(end)) for width, end in zip(widths, ends)]


def fit_feature_ensemble_detector(train_features, train_labels, validation_features, num_classes, layers):
    """The page's fitFeatureEnsembleDetector (src/eval/featureEnsemble.ts). `layers`: [(name, pooling, width)],
    whose features make up the rows' columns in that order. Each layer: class_gaussians, and a scale, the median of
    its squared distances over validation (over training without validation; 1 when that is not positive). An
    image's score is the sum of its layers' distances over their scales; the cut is validation's OOD_QUANTILE of
    the scores (the largest training score without validation)."""
    if not layers:
        raise ValueError('fit_feature_ensemble_detector: no layers.')
    widths = [width for _, _, width in layers]
    x = np.asarray(train_features, dtype=np.float64).reshape(-1, sum(widths))
    v = np.asarray(validation_features, dtype=np.float64).reshape(-1, sum(widths))
    unit_rows = v if len(v) else x
    fitted = []
    for (name, pooling, _), columns in zip(layers, layer_columns(widths)):
        gaussians = class_gaussians(x[:, columns], train_labels, num_classes)
        median = float(np.quantile(mahalanobis_distances(unit_rows[:, columns], gaussians), 0.5))
        fitted.append({'featureLayer': name, 'pooling': pooling, **gaussians,
                       'scale': median if median > 0 and math.isfinite(median) else 1.0})
    detector = {'method': OOD_ENSEMBLE_METHOD, 'layers': fitted, 'threshold': 0.0, 'quantile': OOD_QUANTILE,
                'trainImages': int(len(x)), 'validationImages': int(len(v))}
    if len(v):
        detector['threshold'] = float(np.quantile(ood_scores(detector, v).astype(np.float64), OOD_QUANTILE))
    else:
        detector['threshold'] = float(ood_scores(detector, x).max()) if len(x) else 0.0
    return detector


def ood_layers(detector):
    """[(name, pooling)]: the layers whose features, concatenated in this order, make up a row `detector` judges."""
    if detector['method'] == OOD_ENSEMBLE_METHOD:
        return [(layer['featureLayer'], layer['pooling']) for layer in detector['layers']]
    return [(detector['featureLayer'], 'none')]


def ood_rows(features, layers):
    """The rows a detector judges from AppCnn.features_and_probabilities' features: `layers`' side by side (`image`:
    the input's detail, image_detail)."""
    return torch.cat([features[name] for name, _ in layers], dim=1)


def ood_parts(detector, features):
    """A feature ensemble's scores taken apart, as the page's ensembleScores (src/eval/featureEnsemble.ts), float64:
    (each row's score, the sum over layers of its squared distance over the layer's scale; the parts, [n, layers],
    those scaled distances; with the image's detail among the layers (pooling detail-octaves), each row's detail
    over the nearest training class's, nearest on that layer: exp of the mean over the octaves of the difference of
    logarithms, else None)."""
    widths = [len(layer['precision']) for layer in detector['layers']]
    features = np.asarray(features, dtype=np.float64).reshape(-1, sum(widths))
    sums = np.zeros(len(features))
    parts = np.zeros((len(features), len(widths)))
    detail_ratio = None
    for l, (layer, columns) in enumerate(zip(detector['layers'], layer_columns(widths))):
        block = features[:, columns]
        distances, nearest = nearest_class_distances(block, layer)
        parts[:, l] = distances / layer['scale']
        sums += parts[:, l]
        if layer['pooling'] == IMAGE_DETAIL_LAYER[1]:
            means = np.asarray(layer['classMeans'], dtype=np.float64)[nearest]
            detail_ratio = np.exp((block - means).mean(axis=1))
    return sums, parts, detail_ratio


def ood_scores(detector, features):
    """Each image's score (above the detector's threshold: unlike the training data), for rows of its
    ood_layers' features: the squared distance of a one-layer detector, or the feature ensemble's sum over layers
    of the squared distance over the layer's scale (ood_parts; float64, given as float32, as the page)."""
    if detector['method'] != OOD_ENSEMBLE_METHOD:
        return mahalanobis_distances(features, detector)
    return ood_parts(detector, features)[0].astype(np.float32)


def ood_reason(detector, parts, detail_ratio=None):
    """Why an image was judged unlike the training data, as the page's unlikeReasonOf (src/eval/oodReasons.ts): the
    member of the feature ensemble with the largest of the image's `parts` (a row of ood_parts') and its share of
    their sum. {'kind': 'detail', 'ratio', 'share'} when it is the image's detail (`detail_ratio`, the image's value
    of ood_parts' ratios: below 1 less fine detail than the training films, else more), or {'kind': 'layer',
    'layer', 'early', 'share'} for a layer of the network (`early`: in the first half of the model's layers the
    detector reads, the detail left out). None for the one-layer detector, or when it cannot say."""
    if detector['method'] != OOD_ENSEMBLE_METHOD or len(detector['layers']) < 2:
        return None
    names = [layer['featureLayer'] for layer in detector['layers']]
    parts = [float(part) for part in parts]
    total = sum(parts)
    if len(parts) != len(names) or not total > 0 or not math.isfinite(total):
        return None
    best = 0
    for l, part in enumerate(parts):
        if part > parts[best]:
            best = l
    share = parts[best] / total
    if names[best] == IMAGE_DETAIL_LAYER[0]:
        ratio = float('nan') if detail_ratio is None else float(detail_ratio)
        return {'kind': 'detail', 'ratio': ratio, 'share': share} if math.isfinite(ratio) and ratio > 0 else None
    model_layers = [name for name in names if name != IMAGE_DETAIL_LAYER[0]]
    early = model_layers.index(names[best]) < len(model_layers) // 2
    return {'kind': 'layer', 'layer': names[best], 'early': early, 'share': share}


def ood_reasons(detector, features):
    """(ood_scores' scores; with a feature ensemble, for each image its ood_reason when it is flagged (its score above
    the threshold), else None, and with the detail member the images' detail ratios (ood_parts'): the one-layer
    detector gives neither, None)."""
    if detector['method'] != OOD_ENSEMBLE_METHOD:
        return ood_scores(detector, features), None, None
    sums, parts, detail_ratio = ood_parts(detector, features)
    scores = sums.astype(np.float32)
    reasons = [ood_reason(detector, parts[i], None if detail_ratio is None else detail_ratio[i])
               if scores[i] > detector['threshold'] else None for i in range(len(scores))]
    return scores, reasons, detail_ratio


def ood_summary(detector, features):
    """{'images', 'flagged', 'share'} of images unlike the training data, as the page's summary."""
    scores = ood_scores(detector, features)
    flagged = int(np.sum(scores > detector['threshold']))
    return {'images': int(len(scores)), 'flagged': flagged, 'share': flagged / len(scores) if len(scores) else None}
