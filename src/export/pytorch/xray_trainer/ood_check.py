"""A detector read from a model.zip's metadata.json (hostile), checked as the page checks it
(src/eval/oodDetectorCheck.ts) before the bundle judges with it."""

import math
import re

import numpy as np

from .ood import OOD_ENSEMBLE_METHOD, OOD_MAX_CLASSES, OOD_MAX_FEATURES, OOD_MAX_LAYERS, OOD_METHOD, OOD_POOLINGS


def check_ood_detector(raw, model):
    """A detector from a model.zip's metadata.json (hostile), checked as the page checks it (oodDetectorCheck.ts):
    numbers finite and within caps, each precision square, symmetric, with a positive diagonal, the class means as
    wide, the layers this `model` has at the widths it gives them, scales positive. None when there is none; exits
    with the reason when it is damaged."""
    if raw is None:
        return None

    def bad(what):
        raise SystemExit(f'The model\'s out-of-distribution statistics (outOfDistribution) are damaged: {what}.')

    def finite(value, what, fail=bad):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or abs(value) > 1e30:
            fail(f'{what} is not a finite number')
        return float(value)

    def count(key):
        value = finite(raw.get(key), key)
        if not value.is_integer() or value < 0:
            bad(f'{key} is not a count')
        return int(value)

    def matrix(value, what, fail):
        if not isinstance(value, list) or len(value) > OOD_MAX_FEATURES or any(
                not isinstance(row, list) or len(row) > OOD_MAX_FEATURES for row in value):
            fail(f'{what} is not a list of rows')
        return [[finite(v, f'a number of {what}', fail) for v in row] for row in value]

    def layer_name(value, fail):
        if not isinstance(value, str) or not re.fullmatch(r'[\w./-]{1,100}', value, re.ASCII):
            fail('featureLayer is not a layer name')
        return value

    def gaussians(layer, name, pooling, fail):
        """One layer's class means, precision and shrinkage, checked against the width the model gives it."""
        width = model.ood_layer_width(name, pooling)
        if width is None:
            fail(f'the model has no layer {name} to read {pooling} features from' if pooling != 'none' else
                 f'the model has no flat layer {name} to read features from (this network gives dense_1)')
        precision = matrix(layer.get('precision'), 'precision', fail)
        if len(precision) != width or any(len(row) != width for row in precision):
            fail(f'precision is not {width} x {width}, the width of layer {name}')
        precision = np.array(precision)
        if not np.allclose(precision, precision.T, rtol=1e-6, atol=1e-12) or np.any(np.diag(precision) <= 0):
            fail('precision is not symmetric with a positive diagonal')
        means = matrix(layer.get('classMeans'), 'classMeans', fail)
        if any(len(row) != width for row in means) or not 1 <= len(means) <= min(model.num_classes, OOD_MAX_CLASSES):
            fail(f'classMeans is not 1 to {model.num_classes} rows of {width} numbers')
        means = np.array(means)
        shrinkage = finite(layer.get('shrinkage'), 'shrinkage', fail)
        if not 0 <= shrinkage <= 1:
            fail('shrinkage is not between 0 and 1')
        return {'classMeans': means.tolist(), 'precision': precision.tolist(), 'shrinkage': shrinkage}

    if not isinstance(raw, dict):
        bad('not an object')
    common = {'threshold': finite(raw.get('threshold'), 'threshold'),
              'quantile': finite(raw.get('quantile'), 'quantile'),
              'trainImages': count('trainImages'), 'validationImages': count('validationImages')}
    if common['threshold'] < 0 or not 0 < common['quantile'] < 1:
        bad('threshold or quantile out of range')
    method = raw.get('method')
    if method == OOD_ENSEMBLE_METHOD:
        layers = raw.get('layers')
        if not isinstance(layers, list) or not 1 <= len(layers) <= OOD_MAX_LAYERS:
            bad(f'layers is not a list of 1 to {OOD_MAX_LAYERS} layers')
        checked = []
        for i, layer in enumerate(layers, start=1):
            def fail(what, i=i):
                bad(f'layer {i}: {what}')
            if not isinstance(layer, dict):
                fail('not an object')
            name = layer_name(layer.get('featureLayer'), fail)
            pooling = layer.get('pooling')
            if pooling not in OOD_POOLINGS:
                fail('pooling is not known')
            scale = finite(layer.get('scale'), 'scale', fail)
            if not scale > 0:
                fail('scale is not positive')
            checked.append({'featureLayer': name, 'pooling': pooling, **gaussians(layer, name, pooling, fail),
                            'scale': scale})
        if len({layer['featureLayer'] for layer in checked}) != len(checked):
            bad('a layer is named twice')
        return {'method': OOD_ENSEMBLE_METHOD, 'layers': checked, **common}
    if method != OOD_METHOD:
        bad(f'unknown method {str(method)[:60]!r}')
    name = layer_name(raw.get('featureLayer'), bad)
    return {'method': OOD_METHOD, 'featureLayer': name, **gaussians(raw, name, 'none', bad), **common}
