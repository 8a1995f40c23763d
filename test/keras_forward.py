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


def decode(value):
    return value.decode("utf-8") if hasattr(value, "decode") else value


# --- Keras' loader, as in keras/saving/legacy/hdf5_format.py (and Keras 3's legacy_h5_format.py) ---


def load_attributes_from_hdf5_group(group, name):
    if name in group.attrs:
        return [decode(n) for n in group.attrs[name]]
    data, chunk_id = [], 0
    while "%s%d" % (name, chunk_id) in group.attrs:
        data.extend(decode(n) for n in group.attrs["%s%d" % (name, chunk_id)])
        chunk_id += 1
    return data


def safe_get_h5_group(parent, name):
    """Keras 3's saving_lib.safe_get_h5_group: real groups only, no soft or external links."""
    current = parent
    for part in name.split("/"):
        if not part or part not in current:
            raise KeyError(name)
        link = current.get(part, getclass=True, getlink=True)
        if link in (h5py.ExternalLink, h5py.SoftLink):
            raise ValueError("link in H5 file: " + name)
        current = current[part]
        if not isinstance(current, h5py.Group):
            raise ValueError("expected a group at " + name)
    return current


def load_subset_weights_from_hdf5_group(group):
    names = load_attributes_from_hdf5_group(group, "weight_names")
    values = []
    for name in names:
        parent_name, leaf = name.rsplit("/", 1) if "/" in name else ("", name)
        parent = safe_get_h5_group(group, parent_name) if parent_name else group
        dataset = parent[leaf]
        if not isinstance(dataset, h5py.Dataset):
            raise ValueError("expected a dataset at " + name)
        values.append(np.asarray(dataset))
    return values


# --- Layers: shapes and weights from their configs, and Keras' forward pass ---


def conv_out(size, kernel, stride, padding):
    if padding == "valid":
        return (size - kernel) // stride + 1
    if padding == "same":
        return -(-size // stride)
    raise ValueError("padding " + padding)


def same_pads(size, kernel, stride):
    total = max((conv_out(size, kernel, stride, "same") - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def expected_weights(layer, input_shape):
    """The weights Keras creates when it builds this layer: [(name, shape)] in save order."""
    cls, c = layer["class_name"], layer["config"]
    if cls == "Conv2D":
        shapes = [("kernel", tuple(c["kernel_size"]) + (input_shape[-1], c["filters"]))]
        return shapes + ([("bias", (c["filters"],))] if c["use_bias"] else [])
    if cls == "Dense":
        return [("kernel", (input_shape[-1], c["units"]))] + ([("bias", (c["units"],))] if c["use_bias"] else [])
    if cls == "BatchNormalization":
        axis = c["axis"][0] if isinstance(c["axis"], list) else c["axis"]
        assert axis % len(input_shape) == len(input_shape) - 1, "BatchNormalization over the last axis only"
        n = (input_shape[-1],)
        names = (["gamma"] if c["scale"] else []) + (["beta"] if c["center"] else []) + ["moving_mean", "moving_variance"]
        return [(w, n) for w in names]
    return []


def output_shape(layer, s):
    cls, c = layer["class_name"], layer["config"]
    if cls == "Conv2D":
        assert c["data_format"] == "channels_last" and tuple(c["dilation_rate"]) == (1, 1) and c.get("groups", 1) == 1
        (kh, kw), (sh, sw) = c["kernel_size"], c["strides"]
        return (s[0], conv_out(s[1], kh, sh, c["padding"]), conv_out(s[2], kw, sw, c["padding"]), c["filters"])
    if cls == "MaxPooling2D":
        assert c["data_format"] == "channels_last"
        (ph, pw), (sh, sw) = c["pool_size"], c["strides"]
        return (s[0], conv_out(s[1], ph, sh, c["padding"]), conv_out(s[2], pw, sw, c["padding"]), s[3])
    if cls == "Flatten":
        return (s[0], int(np.prod(s[1:])))
    if cls == "Dense":
        return s[:-1] + (c["units"],)
    if cls in ("BatchNormalization", "ReLU", "Dropout", "PerImageStandardization"):
        return s
    raise ValueError("layer class %s is not one Keras export writes" % cls)


def activation(name, x):
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError("activation " + name)


def conv2d(x, kernel, strides, padding):
    kh, kw = kernel.shape[:2]
    sh, sw = strides
    if padding == "same":
        (t, b), (l, r) = same_pads(x.shape[1], kh, sh), same_pads(x.shape[2], kw, sw)
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    oh, ow = conv_out(x.shape[1], kh, sh, "valid"), conv_out(x.shape[2], kw, sw, "valid")
    out = np.zeros((x.shape[0], oh, ow, kernel.shape[3]))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw, :]
            out += np.tensordot(patch, kernel[i, j], axes=([3], [0]))
    return out


def max_pool(x, pool, strides, padding):
    (ph, pw), (sh, sw) = pool, strides
    if padding == "same":
        (t, b), (l, r) = same_pads(x.shape[1], ph, sh), same_pads(x.shape[2], pw, sw)
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=-np.inf)
    oh, ow = conv_out(x.shape[1], ph, sh, "valid"), conv_out(x.shape[2], pw, sw, "valid")
    out = np.full((x.shape[0], oh, ow, x.shape[3]), -np.inf)
    for i in range(ph):
        for j in range(pw):
            out = np.maximum(out, x[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw, :])
    return out


def forward(layer, w, x):
    cls, c = layer["class_name"], layer["config"]
    if cls == "Conv2D":
        y = conv2d(x, w["kernel"], c["strides"], c["padding"])
        return activation(c["activation"], y + w["bias"] if c["use_bias"] else y)
    if cls == "Dense":
        y = x @ w["kernel"]
        return activation(c["activation"], y + w["bias"] if c["use_bias"] else y)
    if cls == "BatchNormalization":
        gamma = w.get("gamma", 1.0)
        beta = w.get("beta", 0.0)
        return gamma * (x - w["moving_mean"]) / np.sqrt(w["moving_variance"] + c["epsilon"]) + beta
    if cls == "ReLU":
        top = np.inf if c["max_value"] is None else c["max_value"]
        return np.where(x >= top, top, np.where(x >= c["threshold"], x, c["negative_slope"] * (x - c["threshold"])))
    if cls == "MaxPooling2D":
        return max_pool(x, c["pool_size"], c["strides"], c["padding"])
    if cls == "Flatten":
        return x.reshape(x.shape[0], -1)
    if cls == "Dropout":
        return x
    if cls == "PerImageStandardization":
        if CUSTOM_LAYERS:
            return np.asarray(CUSTOM_LAYERS[cls]().call(x))
        centred = x - x.mean(axis=(1, 2, 3), keepdims=True)
        variance = (centred**2).mean(axis=(1, 2, 3), keepdims=True)
        return centred / np.sqrt(np.maximum(variance, 1.0 / np.prod(x.shape[1:])))
    raise ValueError(cls)


# The classes of a --custom-layers file, by name, when given.
CUSTOM_LAYERS = {}


def load_custom_layers(path):
    """Runs the Keras download's Python file with numpy standing in for the TensorFlow calls it makes."""
    import types

    tf = types.ModuleType("tensorflow")
    tf.shape = lambda x: np.asarray(np.shape(x))
    tf.cast = lambda x, dtype: np.asarray(x, dtype=dtype)
    tf.reduce_prod = lambda x: np.prod(x)
    tf.reduce_mean = lambda x, axis, keepdims: np.mean(x, axis=tuple(axis), keepdims=keepdims)
    tf.square = np.square
    tf.sqrt = np.sqrt
    tf.maximum = np.maximum
    keras = types.ModuleType("tensorflow.keras")
    keras.layers = types.SimpleNamespace(Layer=object)
    tf.keras = keras
    saved = {name: sys.modules.get(name) for name in ("tensorflow", "keras")}
    sys.modules["tensorflow"], sys.modules["keras"] = tf, keras
    try:
        namespace = {"__name__": "custom_layers"}
        with open(path) as fh:
            exec(compile(fh.read(), path, "exec"), namespace)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    CUSTOM_LAYERS.update({k: v for k, v in namespace.items() if isinstance(v, type)})


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


# --- The out-of-distribution judgement of docs/out-of-distribution.md, from the layers' outputs ---


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


# --- The layout Keras' own saving code writes, for comparison ---


def keras_reference(path, root, model_layers, weights_file):
    """save_model_to_hdf5 / save_weights_to_hdf5_group / save_attributes_to_hdf5_group, through h5py, with this model."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = str(root["keras_version"])  # str
        f.attrs["backend"] = str(root["backend"])
        for key in ("model_config", "training_config"):
            if key in root:
                f.attrs[key] = json.dumps(json.loads(root[key])).encode("utf8")
        for key in root:
            if key not in ("keras_version", "backend", "model_config", "training_config"):
                f.attrs[key] = json.dumps(json.loads(root[key])).encode("utf8")
        g = f.create_group("model_weights")
        names = [l["config"]["name"] for l in model_layers]
        g.attrs["layer_names"] = [n.encode("utf8") for n in names]
        g.attrs["backend"] = str(root["backend"]).encode("utf8")
        g.attrs["keras_version"] = str(root["keras_version"]).encode("utf8")
        for name in sorted(names) + ["top_level_model_weights"]:
            lg = g.create_group(name)
            src = weights_file["model_weights"][name]
            wnames = load_attributes_from_hdf5_group(src, "weight_names")
            lg.attrs["weight_names"] = [n.encode("utf8") for n in wnames]
            for wname in wnames:
                val = np.asarray(src[wname])
                lg.create_dataset(wname, val.shape, dtype=val.dtype)[...] = val


def describe_attr(obj, name):
    aid = h5py.h5a.open(obj.id, name.encode())
    t, space = aid.get_type(), aid.get_space()
    d = {"class": type(t).__name__, "size": t.get_size(), "shape": space.shape}
    if isinstance(t, h5py.h5t.TypeStringID):
        d.update(vlen=t.is_variable_str(), cset=t.get_cset(), strpad=t.get_strpad())
    return d


def describe(f):
    out = {"superblock": f.id.get_create_plist().get_version()[0]}

    def visit(name, obj):
        entry = {"attrs": {a: describe_attr(obj, a) for a in obj.attrs}}
        if isinstance(obj, h5py.Dataset):
            plist = obj.id.get_create_plist()
            entry.update(dtype=obj.dtype.str, shape=obj.shape, layout=plist.get_layout(), filters=plist.get_nfilters())
        else:
            entry["members"] = sorted(obj.keys())
        out[name or "/"] = entry

    visit("", f)
    f.visititems(visit)
    return out


def differences(ours, theirs, where=""):
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = []
        for key in sorted(set(ours) | set(theirs), key=str):
            if key not in ours:
                found.append("%s/%s: only in Keras' file" % (where, key))
            elif key not in theirs:
                found.append("%s/%s: only in ours" % (where, key))
            else:
                found += differences(ours[key], theirs[key], "%s/%s" % (where, key))
        return found
    return [] if ours == theirs else ["%s: ours %r, Keras' %r" % (where, ours, theirs)]


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
