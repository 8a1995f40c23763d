#!/usr/bin/env python3
"""Checks a Keras HDF5 file written by src/export/keras.ts and runs its model in numpy, as Keras would.

    keras_forward.py model.h5 images.json [--reference keras_layout.h5] [--custom-layers per_image_standardization.py]

Keras itself is not needed. The file is read with h5py the way Keras 2's `load_model_from_hdf5`
(keras/saving/legacy/hdf5_format.py) reads it: `model_config` decoded and parsed as JSON, the layers
built from their configs (output shapes worked out from the InputLayer's batch_input_shape), the
weights fetched through `layer_names` / `weight_names` and handed to the layers that have weights in
model order (not by name), with Keras' count and shape checks. Then the forward pass in numpy
(float64) with Keras' inference semantics: 'valid' / 'same' convolution, pooling that drops the
remainder, BatchNormalization gamma * (x - mean) / sqrt(var + eps) + beta, ReLU with max_value /
negative_slope / threshold, Flatten of NHWC in C order, Dropout as identity; the app's PerImageStandardization
as tf.image.per_image_standardization, or, with --custom-layers, by running the class of the Python file the Keras
download brings (its TensorFlow calls on a numpy stand-in for `tf`; TensorFlow itself is not needed).

With --reference, also writes the file Keras' own saving code (save_model_to_hdf5 through h5py)
would write for the same model, and lists how the two files' layouts differ (attribute types,
string padding and character set, dataset types, shapes and storage, groups).

images.json: {"shape": [n, h, w, c], "data": [n*h*w*c numbers]}.
Prints one JSON object: predictions, layers (name, class, output shape), root (the root attributes),
layout_differences (with --reference), json_like_python (model_config text == json.dumps of itself), and, when the
file's xray_trainer_metadata carries outOfDistribution statistics, ood: each image's feature row (the detector's
layers' outputs, 4-D maps averaged over rows and columns, concatenated in order), score and whether it is unlike the
training data (score > threshold), computed as docs/out-of-distribution.md says.
"""
import json
import sys

import h5py
import numpy as np

from keras_h5 import (
    decode,
    describe,
    differences,
    keras_reference,
    load_attributes_from_hdf5_group,
    load_subset_weights_from_hdf5_group,
    safe_get_h5_group,
)
from keras_layers import CUSTOM_LAYERS, expected_weights, forward, load_custom_layers, output_shape
from keras_ood import judge_ood


def load(path):
    f = h5py.File(path, "r")
    root = {k: decode(f.attrs[k]) for k in f.attrs}
    for key in ("keras_version", "backend", "model_config"):
        assert key in root, "root attribute %s is missing" % key
    model_config = json.loads(root["model_config"])
    assert model_config["class_name"] == "Sequential", model_config["class_name"]
    layers = model_config["config"]["layers"]
    assert layers[0]["class_name"] == "InputLayer", "a Sequential's config starts with its InputLayer"
    shape = tuple(layers[0]["config"]["batch_input_shape"])
    model_layers, shapes = [], []
    for layer in layers[1:]:
        assert set(layer) == {"class_name", "config"}, layer.keys()
        model_layers.append(layer)
        shapes.append(shape)
        shape = output_shape(layer, shape)

    # load_weights_from_hdf5_group: layers with weights in model order, saved layers with weight_names in layer_names order.
    group = f["model_weights"]
    assert "keras_version" in group.attrs and "backend" in group.attrs
    layer_names = load_attributes_from_hdf5_group(group, "layer_names")
    assert layer_names == [l["config"]["name"] for l in model_layers], (layer_names, "layer_names must list every layer")
    filtered = [(l, s) for l, s in zip(model_layers, shapes) if expected_weights(l, s)]
    saved = [n for n in layer_names if load_attributes_from_hdf5_group(safe_get_h5_group(group, n), "weight_names")]
    if len(saved) != len(filtered):
        raise ValueError("Layer count mismatch: model expects %d layers with weights, file has %d" % (len(filtered), len(saved)))
    weights = {}
    for (layer, in_shape), name in zip(filtered, saved):
        names = load_attributes_from_hdf5_group(safe_get_h5_group(group, name), "weight_names")
        values = load_subset_weights_from_hdf5_group(safe_get_h5_group(group, name))
        expected = expected_weights(layer, in_shape)
        if len(values) != len(expected):
            raise ValueError("Weight count mismatch for layer %s" % name)
        for (wname, wshape), value, saved_name in zip(expected, values, names):
            if value.shape != wshape:
                raise ValueError("shape mismatch for %s: %s in the file, %s built" % (saved_name, value.shape, wshape))
            assert value.dtype == np.float32, value.dtype
            assert saved_name == "%s/%s:0" % (name, wname), (saved_name, wname)
        weights[layer["config"]["name"]] = {w: v.astype(np.float64) for (w, _), v in zip(expected, values)}
    if "top_level_model_weights" in group:
        assert load_subset_weights_from_hdf5_group(group["top_level_model_weights"]) == []
    return f, root, model_config, model_layers, shapes + [shape], weights


def main(argv):
    path, images_path = argv[1], argv[2]
    if "--custom-layers" in argv:
        load_custom_layers(argv[argv.index("--custom-layers") + 1])
        assert "PerImageStandardization" in CUSTOM_LAYERS, "the file defines no PerImageStandardization"
    f, root, model_config, model_layers, shapes, weights = load(path)
    with open(images_path) as fh:
        images = json.load(fh)
    x = np.asarray(images["data"], dtype=np.float64).reshape(images["shape"])
    assert tuple(x.shape[1:]) == tuple(shapes[0][1:]), (x.shape, shapes[0])
    inputs = x
    outputs = {}
    for layer in model_layers:
        x = forward(layer, weights.get(layer["config"]["name"], {}), x)
        outputs[layer["config"]["name"]] = x
    result = {
        "predictions": x.tolist(),
        "layers": [{"name": l["config"]["name"], "class_name": l["class_name"], "output_shape": list(s)} for l, s in zip(model_layers, shapes[1:])],
        "root": root,
        # Every JSON attribute's text is what Python's json.dumps writes of it (keras.ts writes it that way).
        "json_like_python": all(json.dumps(json.loads(v)) == v for k, v in root.items() if k not in ("keras_version", "backend")),
    }
    metadata = json.loads(root.get("xray_trainer_metadata", "{}"))
    if metadata.get("outOfDistribution"):
        result["ood"] = judge_ood(metadata["outOfDistribution"], outputs, inputs)
    if "--reference" in argv:
        ref_path = argv[argv.index("--reference") + 1]
        keras_reference(ref_path, root, model_layers, f)
        with h5py.File(ref_path, "r") as ref:
            result["layout_differences"] = differences(describe(f), describe(ref))
    f.close()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
