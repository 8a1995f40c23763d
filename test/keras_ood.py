"""The out-of-distribution judgement of docs/out-of-distribution.md, from a model's layer outputs, in numpy: the
detector's feature row, its score and whether an image is unlike the training data. For test/keras_forward.py."""
import numpy as np


def ood_layers(ood):
    """The layers the detector reads, in the order of its feature row: (name, pooling, statistics)."""
    if ood["method"] == "mahalanobis-feature-ensemble":
        return [(l["featureLayer"], l["pooling"], l) for l in ood["layers"]]
    assert ood["method"] == "mahalanobis-tied-covariance", ood["method"]
    return [(ood["featureLayer"], "none", dict(ood, scale=1.0))]


def image_detail(images):
    """The input's fine detail at four scales (docs/out-of-distribution.md): ln(mean |Laplacian| + 1e-4) of the
    NHWC images (channels averaged), halved by 2x2 averages between scales. The docs' snippet, as written there."""
    x = np.asarray(images, dtype=np.float64).mean(axis=3)
    octaves = []
    for k in range(4):
        if k > 0:
            h, w = x.shape[1] // 2 * 2, x.shape[2] // 2 * 2
            x = x[:, :h, :w].reshape(len(x), h // 2, 2, w // 2, 2).mean(axis=(2, 4))
        lap = 4 * x[:, 1:-1, 1:-1] - x[:, :-2, 1:-1] - x[:, 2:, 1:-1] - x[:, 1:-1, :-2] - x[:, 1:-1, 2:]
        octaves.append(np.log(np.abs(lap).mean(axis=(1, 2)) + 1e-4))
    return np.stack(octaves, axis=1)


def ood_features(ood, outputs, images):
    """An image's feature row: each layer's output, a 4-D NHWC map averaged over rows and columns, the input's
    detail, concatenated."""
    parts = []
    for name, pooling, _ in ood_layers(ood):
        if pooling == "detail-octaves":
            parts.append(image_detail(images))
            continue
        y = outputs[name]
        if pooling == "spatial-mean":
            assert y.ndim == 4, "%s is not a 4-D map" % name
            y = y.mean(axis=(1, 2))
        else:
            assert pooling == "none" and y.ndim == 2, (name, pooling, y.shape)
        parts.append(y)
    return np.concatenate(parts, axis=1)


def ood_scores(ood, features):
    """Sum over layers of min over classes of (f - mean)^T precision (f - mean), divided by the layer's scale."""
    scores, start = np.zeros(features.shape[0]), 0
    for _, _, stats in ood_layers(ood):
        precision = np.asarray(stats["precision"], dtype=np.float64)
        f = features[:, start : start + precision.shape[0]]
        start += precision.shape[0]
        d2 = np.min([np.einsum("ij,jk,ik->i", f - m, precision, f - m) for m in np.asarray(stats["classMeans"])], axis=0)
        scores += d2 / stats["scale"]
    assert start == features.shape[1]
    return scores


def judge_ood(ood, outputs, images):
    features = ood_features(ood, outputs, images)
    scores = ood_scores(ood, features)
    return {
        "features": features.tolist(),
        "scores": scores.astype(np.float32).tolist(),
        "unlike": (scores > ood["threshold"]).tolist(),
    }
