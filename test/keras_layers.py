"""The layers a Keras export writes, as Keras builds and runs them, in numpy (float64): output shapes and weights from
their configs, the forward pass with Keras' inference semantics, and the app's PerImageStandardization (or the class
of the Python file the Keras download brings, with --custom-layers). For test/keras_forward.py."""
import sys

import numpy as np


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
