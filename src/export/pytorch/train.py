#!/usr/bin/env python3
"""Train the X-ray trainer's CNN with PyTorch, on one machine or many, from the page's "Export for PyTorch" bundle.

The bundle holds this file, manifest.csv (every image's path inside your dataset, its split, class and patient
group, exactly as the page split them), settings.json (the page's settings and the class order) and README.md.

    python train.py --data DIR                                  # one process (CPU, or the first GPU)
    torchrun --nproc_per_node=4 train.py --data DIR --out run1  # 4 processes, DistributedDataParallel

DIR is the folder the manifest's paths start from (where you unzipped the dataset you gave the page). Rank 0
writes to --out: model.zip (the page's format: TensorFlow.js layers model.json + weights.bin + metadata.json; the
page's `Load model` takes it), history.csv, metrics.json (validation figures, and test figures from the manifest's
test rows only) and, with test rows, test_predictions.csv.

    python train.py --data DIR --init model.zip --epochs 0      # evaluate a model downloaded from the page
    python train.py --predict model.zip --images a.jpeg b.png   # probabilities of single images, as JSON
    python train.py --data DIR --snapshots 3 --epochs 12        # a snapshot ensemble of 3, saved as one model

It mirrors the page so that the numbers mean the same: the same network layer for layer (tutorial or batchnorm),
the same preprocessing (EXIF orientation, grey = 0.299 R + 0.587 G + 0.114 B, squashed to S x S, / 255), the same
class weights, augmentation, loss, optimizer and early stopping. Written for torch 1.13 and 2.x; needs numpy and
Pillow (pip install pillow) to read images.
"""

import argparse
import csv
import datetime
import json
import math
import re
import os
import sys
import threading
import time
import zipfile

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

try:
    from PIL import Image, ImageOps
except ImportError:  # Reported when an image is read: --predict of a model alone, and --help, work without it.
    Image = None
    ImageOps = None

# ------------------------------------------------------------------------------------------------ the network

MODEL_NAMES = ('tutorial', 'batchnorm')
# The page's `Intensity normalisation`: none, or the model's first layer standardising each image (src/core/types.ts).
INTENSITY_NORMALISATIONS = ('none', 'per-image')
# Filters of the four Conv2D (2x2, valid) + MaxPooling2D (2x2) blocks, as in the Keras tutorial (src/model/cnn.ts).
CONV_FILTERS = (32, 32, 64, 32)
DENSE_UNITS = 64  # dense_1, the features the out-of-distribution detector judges.
# A snapshot ensemble's members (the page's `Snapshot ensemble` setting, 1..5; 1 = a single model).
MAX_MEMBERS = 5
ENSEMBLE_LAYER = 'ensemble_average'
ENSEMBLE_KERNEL = f'{ENSEMBLE_LAYER}/kernel'
ENSEMBLE_TWO_CLASSES = ('A snapshot ensemble needs exactly 2 classes: each member\'s softmax over more classes '
                        'cannot be averaged by the one Dense layer the saved model ends with. Use --snapshots 1.')
KERAS_EPSILON = 1e-7  # Keras' fuzz factor: RMSprop's epsilon, and the clipping of probabilities in the loss.
BN_EPSILON = 1e-3  # Keras' BatchNormalization epsilon.
# The page keeps 0.9 of the running statistics each batch (Keras momentum 0.9); PyTorch's momentum is the other
# share, 1 - 0.9.
BN_MOMENTUM = 0.1
TFJS_LAYERS_VERSION = '4.22.0'
NORMALISATION = 'grey = 0.299 R + 0.587 G + 0.114 B, then pixel / 255 (values in 0..1)'


def feature_map_size(image_size):
    """Side of the feature map after the four blocks, e.g. 150 -> 8 (each: 2x2 valid conv, then halve, floor)."""
    side = image_size
    for _ in CONV_FILTERS:
        side = (side - 1) // 2
    return side


class KerasBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose running variance follows the batch's biased variance, as Keras and tfjs keep it. PyTorch's
    follows the unbiased one, n / (n - 1) larger (n = images x positions of a channel): 1.4% off in the last block
    at 40 px and 8 images a batch, and the page's models would then predict differently here."""

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        # PyTorch's own (fused) normalisation with the batch's statistics; it updates a throwaway copy of the
        # running variance (autograd keeps the one it was given), and this one is updated here instead.
        out = F.batch_norm(x, self.running_mean, self.running_var.clone(), self.weight, self.bias, True,
                           self.momentum, self.eps)
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            variance = x.var(dim=(0, 2, 3), unbiased=False)
            self.running_var.mul_(1 - self.momentum).add_(variance, alpha=self.momentum)
        return out


class PerImageStandardization(nn.Module):
    """The page's first layer with `Intensity normalisation` per-image (src/model/intensityNormalisation.ts): each
    image minus its mean over all its values, divided by sqrt(max(variance, 1 / N)), N its values, as
    tf.image.per_image_standardization. No weights."""

    def forward(self, x):
        centred = x - x.mean(dim=(1, 2, 3), keepdim=True)
        variance = centred.square().mean(dim=(1, 2, 3), keepdim=True)
        return centred / variance.clamp(min=1.0 / x[0].numel()).sqrt()


class AppCnn(nn.Module):
    """The page's network. `tutorial`: 4 x [Conv2d 2x2 + bias, ReLU, MaxPool 2x2], Flatten, Dense 64 ReLU,
    Dropout 0.5, Dense 1 sigmoid (2 classes) or N softmax. `batchnorm`: the convolutions without bias, each followed
    by BatchNorm2d before its ReLU; the same head. With intensity normalisation `per-image`, PerImageStandardization
    comes first. Takes [n, 1, S, S] in 0..1, returns probabilities.

    With `members` K > 1 (two classes only), a snapshot ensemble saved as one plain chain: every width times K, the
    output K sigmoid units (member k's probability) and a last fixed Dense K -> 1 (`ensemble_average`, kernel 1 / K)
    averaging them. Only `stack_members` fills it (block by block); it is for inference, never trained.

    Modules are named as the TensorFlow.js layers (conv2d_1, batch_normalization_1, dense_1, ...), so the weights
    convert name for name."""

    def __init__(self, model_name, image_size, num_classes, intensity_normalisation='none', members=1):
        super().__init__()
        if not isinstance(members, int) or not 1 <= members <= MAX_MEMBERS:
            raise SystemExit(f'A snapshot ensemble has 1 to {MAX_MEMBERS} members (got {members}).')
        if members > 1 and num_classes != 2:
            raise SystemExit(ENSEMBLE_TWO_CLASSES)
        if model_name not in MODEL_NAMES:
            raise SystemExit(f'Unknown model "{model_name}": choose one of {", ".join(MODEL_NAMES)}.')
        if intensity_normalisation not in INTENSITY_NORMALISATIONS:
            raise SystemExit(f'Unknown intensity normalisation "{intensity_normalisation}": choose one of '
                             f'{", ".join(INTENSITY_NORMALISATIONS)}.')
        if feature_map_size(image_size) < 1:
            raise SystemExit(f'Image size {image_size} px is too small for this CNN: it needs at least 31 px a side.')
        if num_classes < 2:
            raise SystemExit(f'A classifier needs at least 2 classes (got {num_classes}).')
        self.model_name = model_name
        self.intensity_normalisation = intensity_normalisation
        self.per_image_standardization = PerImageStandardization() if intensity_normalisation == 'per-image' else None
        self.image_size = image_size
        self.num_classes = num_classes
        self.binary = num_classes == 2
        self.members = members
        batchnorm = model_name == 'batchnorm'
        channels = 1
        for i, filters in enumerate(CONV_FILTERS, start=1):
            filters *= members
            self.add_module(f'conv2d_{i}', nn.Conv2d(channels, filters, kernel_size=2, bias=not batchnorm))
            if batchnorm:
                self.add_module(f'batch_normalization_{i}', KerasBatchNorm2d(filters, eps=BN_EPSILON, momentum=BN_MOMENTUM))
            channels = filters
        side = feature_map_size(image_size)
        self.dense_1 = nn.Linear(side * side * channels, DENSE_UNITS * members)
        self.dropout = nn.Dropout(0.5)
        self.dense_2 = nn.Linear(DENSE_UNITS * members, members if self.binary else num_classes)
        # Keras' initialisers: Glorot-uniform kernels, zero biases (BatchNorm2d already starts at 1 and 0).
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        self.ensemble_average = None
        if members > 1:
            self.ensemble_average = nn.Linear(members, 1, bias=False)
            self.ensemble_average.weight.requires_grad_(False)
            nn.init.constant_(self.ensemble_average.weight, 1.0 / members)

    def forward(self, x):
        return self.features_and_probabilities(x, pooled=False)[1]

    def ood_layer_width(self, name, pooling):
        """How many features layer `name` gives an image after `pooling` (OOD_LAYERS' terms); None when this
        network has no such layer to read that way."""
        blocks = {f'max_pooling2d_{i}': filters for i, filters in enumerate(CONV_FILTERS, start=1)}
        if pooling == 'spatial-mean' and name in blocks:
            return blocks[name] * self.members
        return DENSE_UNITS * self.members if (name, pooling) == ('dense_1', 'none') else None

    def member_probabilities(self, features):
        """The output layer's probabilities from dense_1's output (its ReLU applied), after Dropout: [n, 1] or
        [n, classes]; for an ensemble [n, K], member k's P(class 1) in column k."""
        x = self.dense_2(self.dropout(features))
        return torch.sigmoid(x) if self.binary else torch.softmax(x, dim=1)

    def head(self, features):
        """Probabilities from dense_1's output: the output layer's, averaged by `ensemble_average` in an ensemble."""
        probabilities = self.member_probabilities(features)
        return probabilities if self.ensemble_average is None else self.ensemble_average(probabilities)

    def features_and_probabilities(self, x, pooled=True):
        """The features the out-of-distribution detectors read and the probabilities, in one pass: {layer name:
        [n, width]}, dense_1's output (after its ReLU) and, with `pooled`, each max_pooling2d_i's map averaged over
        its rows and columns (channel order = the page's)."""
        features = {}
        if self.per_image_standardization is not None:
            x = self.per_image_standardization(x)
        for i in range(1, len(CONV_FILTERS) + 1):
            x = getattr(self, f'conv2d_{i}')(x)
            if self.model_name == 'batchnorm':
                x = getattr(self, f'batch_normalization_{i}')(x)
            x = F.max_pool2d(F.relu(x), 2)
            if pooled:
                features[f'max_pooling2d_{i}'] = x.mean(dim=(2, 3))
        # Keras flattens channels-last (row, column, channel): permute first, so that dense_1's kernel is the
        # page's, row for row.
        features['dense_1'] = F.relu(self.dense_1(x.permute(0, 2, 3, 1).flatten(1)))
        return features, self.head(features['dense_1'])


# ------------------------------------------------------------------------------------------ snapshot ensemble


def _block_diagonal(blocks):
    """[K*out, K*in, ...] with member k's [out, in, ...] at [k*out:(k+1)*out, k*in:(k+1)*in], zero elsewhere."""
    k, (rows, cols) = len(blocks), blocks[0].shape[:2]
    out = blocks[0].new_zeros((k * rows, k * cols) + tuple(blocks[0].shape[2:]))
    for i, block in enumerate(blocks):
        out[i * rows:(i + 1) * rows, i * cols:(i + 1) * cols] = block
    return out


def _stacked_dense_1(kernels, channels):
    """dense_1 of the stacked model. Its input is the NHWC flatten of an [h, w, K*C] map, so input column
    (p * K + k) * C + c (p = i * w + j) of output unit k * 64 + u is member k's column p * C + c of unit u."""
    k = len(kernels)
    units, columns = kernels[0].shape
    positions = columns // channels
    out = kernels[0].new_zeros((k, units, positions, k, channels))
    for i, kernel in enumerate(kernels):
        out[i, :, :, i, :] = kernel.view(units, positions, channels)
    return out.view(k * units, positions * k * channels)


def stack_members(members):
    """K trained single models (the same network, size and normalisation; two classes) as one model whose output
    is the mean of theirs: member k owns block k of every layer (ensemble-spec.md), the rest is zero."""
    first = members[0]
    if len(members) < 2 or any(m.members != 1 for m in members):
        raise ValueError('stack_members takes 2 or more single models.')
    if any((m.model_name, m.image_size, m.num_classes, m.intensity_normalisation)
           != (first.model_name, first.image_size, first.num_classes, first.intensity_normalisation) for m in members):
        raise ValueError('stack_members takes models of one network, image size, class count and normalisation.')
    stacked = AppCnn(first.model_name, first.image_size, first.num_classes, first.intensity_normalisation, len(members))
    states = [{key: value.detach().cpu() for key, value in m.state_dict().items()} for m in members]
    out = stacked.state_dict()
    for key in out:
        parts = [state[key] for state in states] if key in states[0] else None
        if key == 'ensemble_average.weight':
            continue
        if key.endswith('num_batches_tracked'):
            out[key] = parts[0].clone()
        elif key == 'conv2d_1.weight':
            out[key] = torch.cat(parts, dim=0)
        elif key == 'dense_1.weight':
            out[key] = _stacked_dense_1(parts, CONV_FILTERS[-1])
        elif key.endswith('.weight') and parts[0].dim() > 1:
            out[key] = _block_diagonal(parts)
        else:  # Biases, BatchNorm's scale, shift and running statistics: side by side in member order.
            out[key] = torch.cat(parts)
    stacked.load_state_dict(out)
    stacked.eval()
    return stacked


def member_models(stacked):
    """The K single models of a stacked ensemble, each its own block of every layer (stack_members undone; what
    lies off the blocks is not read)."""
    k = stacked.members
    state = {key: value.detach().cpu() for key, value in stacked.state_dict().items()}
    models = []
    for i in range(k):
        member = AppCnn(stacked.model_name, stacked.image_size, stacked.num_classes, stacked.intensity_normalisation)
        own = member.state_dict()
        for key, shape in ((key, value.shape) for key, value in own.items()):
            whole = state[key]
            if key.endswith('num_batches_tracked'):
                own[key] = whole.clone()
            elif key == 'dense_1.weight':
                units, columns = shape
                channels = CONV_FILTERS[-1]
                own[key] = whole.view(k, units, columns // channels, k, channels)[i, :, :, i, :].reshape(shape).clone()
            elif key.endswith('.weight') and whole.dim() > 1 and key != 'conv2d_1.weight':
                own[key] = whole[i * shape[0]:(i + 1) * shape[0], i * shape[1]:(i + 1) * shape[1]].clone()
            else:
                own[key] = whole[i * shape[0]:(i + 1) * shape[0]].clone()
        member.load_state_dict(own)
        member.eval()
        models.append(member)
    return models


def scorer(model):
    """x -> (features, probabilities) of `model` in eval mode, as AppCnn.features_and_probabilities. For an
    ensemble whose weights lie in their blocks only (as stack_members writes them, and the page), member by member:
    the same numbers with K times less arithmetic than the wide layers, whose block-diagonal kernels a dense
    convolution multiplies zeros and all (K^2 the work of one member)."""
    model.eval()
    if model.members == 1:
        return model.features_and_probabilities
    members = member_models(model)
    again = stack_members(members).state_dict()
    if any(not torch.equal(value.detach().cpu(), again[key]) for key, value in model.state_dict().items()
           if key != 'ensemble_average.weight' and not key.endswith('num_batches_tracked')):
        return model.features_and_probabilities  # Weights off the blocks (not the page's format): the wide way.
    device = next(model.parameters()).device
    members = [member.to(device) for member in members]

    def members_features_and_probabilities(x, pooled=True):
        # Member k owns block k of every layer's channels and units: each layer's features side by side.
        parts = [member.features_and_probabilities(x, pooled) for member in members]
        features = {name: torch.cat([f[name] for f, _ in parts], dim=1) for name in parts[0][0]}
        return features, model.ensemble_average(torch.cat([p for _, p in parts], dim=1))

    return members_features_and_probabilities


# ------------------------------------------------------------------------------- the page's model format (tfjs)


def tfjs_weight_names(model_name, members=1):
    """The weights in the order the page writes them (trainable ones first, then the running statistics and an
    ensemble's fixed averaging kernel, layer by layer, as tfjs lists a model's non-trainable weights)."""
    names = []
    for i in range(1, len(CONV_FILTERS) + 1):
        names.append(f'conv2d_{i}/kernel')
        if model_name == 'batchnorm':
            names += [f'batch_normalization_{i}/gamma', f'batch_normalization_{i}/beta']
        else:
            names.append(f'conv2d_{i}/bias')
    names += ['dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', 'dense_2/bias']
    if model_name == 'batchnorm':
        for i in range(1, len(CONV_FILTERS) + 1):
            names += [f'batch_normalization_{i}/moving_mean', f'batch_normalization_{i}/moving_variance']
    if members > 1:
        names.append(ENSEMBLE_KERNEL)
    return names


_TORCH_NAMES = {'kernel': 'weight', 'bias': 'bias', 'gamma': 'weight', 'beta': 'bias',
                'moving_mean': 'running_mean', 'moving_variance': 'running_var'}


def torch_key(tfjs_name):
    layer, weight = tfjs_name.split('/')
    return f'{layer}.{_TORCH_NAMES[weight]}'


def to_tfjs(tfjs_name, tensor):
    """A PyTorch weight as the page stores it: conv kernels [kh, kw, in, out], dense kernels [in, out]."""
    array = tensor.detach().cpu().float().numpy()
    if tfjs_name.endswith('/kernel'):
        array = array.transpose(2, 3, 1, 0) if array.ndim == 4 else array.T
    return np.ascontiguousarray(array, dtype='<f4')


def from_tfjs(tfjs_name, array):
    if tfjs_name.endswith('/kernel'):
        array = array.transpose(3, 2, 0, 1) if array.ndim == 4 else array.T
    return torch.from_numpy(np.array(array, dtype=np.float32, order='C'))  # A writable copy.


def _initializer(seed):
    return {'class_name': 'VarianceScaling', 'config': {'scale': 1, 'mode': 'fan_avg', 'distribution': 'uniform', 'seed': seed}}


_ZEROS = {'class_name': 'Zeros', 'config': {}}


def model_topology(model_name, image_size, num_classes, seed, intensity_normalisation='none', members=1):
    """model.json's modelTopology, as TensorFlow.js writes it for the page's model (src/model/cnn.ts, models.ts).
    The initialisers' seeds are the page's (seed, seed + 1, ... for the kernels): only a record, never used here.
    An ensemble of `members` K: every width times K, K sigmoid outputs, then the fixed Dense `ensemble_average`."""
    batchnorm = model_name == 'batchnorm'
    layers = []
    input_shape = {'batch_input_shape': [None, image_size, image_size, 1], 'dtype': 'float32'}
    if intensity_normalisation == 'per-image':
        layers.append({'class_name': 'PerImageStandardization', 'config': {
            'name': 'per_image_standardization', 'trainable': True, **input_shape}})
    for i, filters in enumerate(CONV_FILTERS, start=1):
        conv = {'filters': filters * members, 'kernel_initializer': _initializer(seed + i - 1),
                'kernel_regularizer': None,
                'kernel_constraint': None, 'kernel_size': [2, 2], 'strides': [1, 1], 'padding': 'valid',
                'data_format': 'channels_last', 'dilation_rate': [1, 1], 'activation': 'linear' if batchnorm else 'relu',
                'use_bias': not batchnorm, 'bias_initializer': _ZEROS, 'bias_regularizer': None,
                'activity_regularizer': None, 'bias_constraint': None, 'name': f'conv2d_{i}', 'trainable': True}
        if i == 1 and not layers:
            conv.update(input_shape)
        layers.append({'class_name': 'Conv2D', 'config': conv})
        if batchnorm:
            layers.append({'class_name': 'BatchNormalization', 'config': {
                'axis': -1, 'momentum': 1 - BN_MOMENTUM, 'epsilon': BN_EPSILON, 'center': True, 'scale': True,
                'beta_initializer': _ZEROS, 'gamma_initializer': {'class_name': 'Ones', 'config': {}},
                'moving_mean_initializer': _ZEROS, 'moving_variance_initializer': {'class_name': 'Ones', 'config': {}},
                'beta_regularizer': None, 'gamma_regularizer': None, 'beta_constraint': None, 'gamma_constraint': None,
                'name': f'batch_normalization_{i}', 'trainable': True}})
            layers.append({'class_name': 'ReLU', 'config': {'max_value': None, 'name': f're_lu_{i}', 'trainable': True}})
        layers.append({'class_name': 'MaxPooling2D', 'config': {
            'pool_size': [2, 2], 'padding': 'valid', 'strides': [2, 2], 'data_format': 'channels_last',
            'name': f'max_pooling2d_{i}', 'trainable': True}})
    layers.append({'class_name': 'Flatten', 'config': {'name': 'flatten', 'trainable': True}})

    def dense(name, units, activation, kernel_initializer, use_bias=True, trainable=True):
        return {'class_name': 'Dense', 'config': {
            'units': units, 'activation': activation, 'use_bias': use_bias, 'kernel_initializer': kernel_initializer,
            'bias_initializer': _ZEROS, 'kernel_regularizer': None, 'bias_regularizer': None,
            'activity_regularizer': None, 'kernel_constraint': None, 'bias_constraint': None, 'name': name,
            'trainable': trainable}}

    layers.append(dense('dense_1', DENSE_UNITS * members, 'relu', _initializer(seed + 4)))
    layers.append({'class_name': 'Dropout', 'config': {'rate': 0.5, 'noise_shape': None, 'seed': None, 'name': 'dropout', 'trainable': True}})
    binary = num_classes == 2
    outputs = members if binary else num_classes
    layers.append(dense('dense_2', outputs, 'sigmoid' if binary else 'softmax', _initializer(seed + 5)))
    if members > 1:
        layers.append(dense(ENSEMBLE_LAYER, 1, 'linear', {'class_name': 'Constant', 'config': {'value': 1 / members}},
                            use_bias=False, trainable=False))
    return {'class_name': 'Sequential',
            'config': {'name': 'batchnorm_cnn' if batchnorm else 'tutorial_cnn', 'layers': layers},
            'keras_version': f'tfjs-layers {TFJS_LAYERS_VERSION}', 'backend': 'tensor_flow.js'}


def model_files(model, learning_rate, seed):
    """(model.json text, weights.bin bytes) of a model, in the page's TensorFlow.js layers format."""
    state = model.state_dict()
    specs, chunks = [], []
    for name in tfjs_weight_names(model.model_name, model.members):
        array = to_tfjs(name, state[torch_key(name)])
        specs.append({'name': name, 'shape': list(array.shape), 'dtype': 'float32'})
        chunks.append(array.tobytes())
    model_json = {
        'format': 'layers-model',
        'generatedBy': f'train.py (PyTorch {torch.__version__}) for TensorFlow.js tfjs-layers v{TFJS_LAYERS_VERSION}',
        'convertedBy': None,
        'modelTopology': model_topology(model.model_name, model.image_size, model.num_classes, seed,
                                        model.intensity_normalisation, model.members),
        'weightsManifest': [{'paths': ['weights.bin'], 'weights': specs}],
        'trainingConfig': {
            'loss': 'binary_crossentropy' if model.binary else 'categorical_crossentropy',
            'metrics': ['accuracy'],
            'optimizer_config': {'class_name': 'RMSProp', 'config': {
                'learningRate': learning_rate, 'decay': 0.9, 'momentum': 0, 'epsilon': KERAS_EPSILON, 'centered': False}},
        },
    }
    return json.dumps(model_json), b''.join(chunks)


def read_model_files(path):
    """{name: bytes} of a model.zip from the page (or of a folder holding model.json and its weight files)."""
    if os.path.isdir(path):
        return {name: open(os.path.join(path, name), 'rb').read() for name in os.listdir(path)
                if os.path.isfile(os.path.join(path, name))}
    with zipfile.ZipFile(path) as archive:
        # The files may sit in a folder inside the zip: keep their base names.
        return {os.path.basename(info.filename): archive.read(info) for info in archive.infolist()
                if not info.is_dir() and not os.path.basename(info.filename).startswith('.')}


def load_app_model(path):
    """A model downloaded from the page (model.zip: model.json + weights.bin + metadata.json) as an AppCnn in eval
    mode, and its metadata (an empty dict when the zip has none)."""
    files = read_model_files(path)
    if 'model.json' not in files:
        raise SystemExit(f'{path} holds no model.json: pass the model.zip the page downloads (or this script writes).')
    model_json = json.loads(files['model.json'])
    metadata = json.loads(files['metadata.json']) if 'metadata.json' in files else {}
    layers = model_json['modelTopology']['config']['layers']
    classes = {layer['class_name'] for layer in layers}
    model_name = metadata.get('model') or ('batchnorm' if 'BatchNormalization' in classes else 'tutorial')
    image_size = layers[0]['config']['batch_input_shape'][1]
    output_layer = next(layer for layer in layers if layer['config'].get('name') == 'dense_2')['config']
    units = output_layer['units']
    first = next(layer['class_name'] for layer in layers if layer['class_name'] != 'InputLayer')
    normalisation = 'per-image' if first == 'PerImageStandardization' else 'none'
    members = ensemble_members(path, layers, output_layer, metadata)
    model = AppCnn(model_name, image_size, 2 if units == 1 or members > 1 else units, normalisation, members)

    weights = {}
    for group in model_json['weightsManifest']:
        data = b''.join(files[os.path.basename(p)] for p in group['paths'])
        offset = 0
        for spec in group['weights']:
            if spec.get('dtype', 'float32') != 'float32' or 'quantization' in spec:
                raise SystemExit(f'{path}: weight {spec["name"]} is not plain float32; only the page\'s own format is read.')
            count = int(np.prod(spec['shape'])) if spec['shape'] else 1
            weights[spec['name']] = np.frombuffer(data, dtype='<f4', count=count, offset=offset).reshape(spec['shape'])
            offset += 4 * count
    state = model.state_dict()
    expected = tfjs_weight_names(model_name, members)
    missing = [name for name in expected if name not in weights]
    if missing:
        raise SystemExit(f'{path} is not the page\'s {model_name} model: it lacks {", ".join(missing[:4])}.')
    for name in expected:
        tensor = from_tfjs(name, weights[name])
        if tuple(tensor.shape) != tuple(state[torch_key(name)].shape):
            raise SystemExit(f'{path}: {name} has shape {list(weights[name].shape)}, not what a {model_name} model at '
                             f'{image_size} px with {model.num_classes} classes has.')
        state[torch_key(name)] = tensor
    model.load_state_dict(state)
    model.eval()
    return model, metadata


def ensemble_members(path, layers, output_layer, metadata):
    """K of a snapshot ensemble saved as one model (its last layer `ensemble_average`, Dense K -> 1 after K sigmoid
    outputs), else 1. Exits with the reason when the topology or metadata.json's `ensemble` disagree."""
    last = layers[-1]
    declared = metadata.get('ensemble')
    if last['config'].get('name') != ENSEMBLE_LAYER:
        # A single model may say so ({members: 1}) or say nothing.
        if declared is not None and (not isinstance(declared, dict) or declared.get('members', 1) != 1):
            raise SystemExit(f'{path}: metadata.json says the model is an ensemble, but model.json has no '
                             f'{ENSEMBLE_LAYER} layer.')
        return 1
    config = last['config']
    members = output_layer.get('units')
    if (last['class_name'] != 'Dense' or config.get('units') != 1 or config.get('use_bias')
            or output_layer.get('activation') != 'sigmoid'
            or config.get('activation') != 'linear' or not isinstance(members, int) or not 2 <= members <= MAX_MEMBERS):
        raise SystemExit(f'{path}: its {ENSEMBLE_LAYER} layer is not a linear Dense without bias from 2 to '
                         f'{MAX_MEMBERS} sigmoid outputs to 1, the page\'s snapshot ensemble.')
    if declared is not None and (not isinstance(declared, dict) or declared.get('members') != members):
        raise SystemExit(f'{path}: metadata.json\'s ensemble ({str(declared)[:80]}) is not the model\'s {members} '
                         f'members.')
    return members


# -------------------------------------------------------------------------------------------------- images


def load_grey(path, size):
    """An image file as the page sees it: [size, size] uint8 grey.

    As the page: JPEGs decoded at the smallest DCT scale (1/2, 1/4, 1/8) whose result still covers `size` (PIL's
    draft), EXIF orientation applied, fully transparent pixels black and alpha dropped, squashed to size x size
    (aspect ratio not kept) with an antialiased bicubic filter (the page asks the browser for its 'high' quality
    resize, whose filter is the browser's own: a shrunk image can come out slightly different), then grey as PIL's
    convert('L') (0.299 R + 0.587 G + 0.114 B, which the page copies to the bit). 16-bit grey is scaled to 8 bits.
    An image already at size x size is not resampled: its pixels are the page's exactly."""
    if Image is None:
        raise SystemExit('Reading images needs Pillow: pip install pillow (then run this again).')
    with Image.open(path) as opened:
        if opened.format == 'JPEG':
            opened.draft(None, (size, size))
        image = ImageOps.exif_transpose(opened)
    if image.mode in ('I', 'I;16', 'I;16B', 'I;16L'):
        wide = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(np.round(wide / 257.0), 0, 255).astype(np.uint8), 'L')
    if image.mode in ('P', 'PA', 'LA', 'La', 'RGBA', 'RGBa'):
        rgba = np.array(image.convert('RGBA'), dtype=np.uint8)
        rgba[rgba[..., 3] == 0, :3] = 0  # A canvas holds fully transparent pixels as black.
        image = Image.fromarray(np.ascontiguousarray(rgba[..., :3]), 'RGB')
    elif image.mode not in ('L', 'RGB'):
        image = image.convert('RGB')
    resample = getattr(Image, 'Resampling', Image).BICUBIC
    image = image.resize((size, size), resample)
    if image.mode != 'L':
        image = image.convert('L')
    return np.asarray(image, dtype=np.uint8)


class ImageFiles(torch.utils.data.Dataset):
    """Images of one split, decoded as they are used (so that any dataset size fits); gives (uint8 [S, S], label,
    index)."""

    def __init__(self, root, rows, size):
        self.paths = [os.path.join(root, row['path']) for row in rows]
        self.labels = [row['label'] for row in rows]
        self.size = size

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        pixels = load_grey(self.paths[index], self.size)
        return torch.from_numpy(pixels.copy()), self.labels[index], index


def to_input(pixels, device):
    """uint8 [n, S, S] -> float32 [n, 1, S, S] in 0..1, as the page's batches (pixel * (1 / 255))."""
    return pixels.to(device, non_blocking=True).float().mul_(1.0 / 255.0).unsqueeze(1)


# ------------------------------------------------------------------------------------------------ augmentation

# Random numbers each image draws (src/worker/augment.ts): rotation, shift x, shift y, shear, zoom x, zoom y, flip,
# brightness; always all 8, so turning one change on leaves the others' draws as they were.
DRAWS_PER_IMAGE = 8


# The acquisition changes' draws (augment.ts acquisitionParams): contrast, gamma, blur weight, noise sd, noise seed.
ACQUISITION_DRAWS_PER_IMAGE = 5
ACQUISITION_KEYS = ('contrast', 'gamma', 'blur', 'noise')


def is_augmenting(aug):
    keys = ('rotation', 'zoom', 'shift', 'shear', 'brightness', 'horizontalFlip') + ACQUISITION_KEYS
    return any(aug.get(key, 0) for key in keys)


def gaussian_kernel(sigma):
    """The page's normalised 1-D Gaussian (augment.ts gaussianKernel): radius ceil(3 sigma), at least 1."""
    radius = max(1, math.ceil(3 * sigma))
    taps = torch.exp(-torch.arange(-radius, radius + 1, dtype=torch.float64) ** 2 / (2 * sigma * sigma))
    return (taps / taps.sum()).float()


def acquisition_batch(x, aug, uniform):
    """The page's acquisition changes (augment.ts applyAcquisition), in its order: a Gaussian blur (edges mirrored)
    mixed in at a weight in 0..1, contrast about each image's mean times 1 +- contrast, a power from 1 / (1 + gamma)
    to 1 + gamma (log-uniform), Gaussian noise of sd 0..noise; clipped to 0..1. `uniform` [n, 5] in 0..1; the noise
    itself comes from torch's generator, so it is not the page's pixel for pixel."""
    n, _, height, width = x.shape
    u = uniform.to(x.device, torch.float32)
    if aug.get('blur', 0) > 0:
        taps = gaussian_kernel(aug['blur']).to(x.device)
        radius = min((len(taps) - 1) // 2, height - 1, width - 1)
        taps = taps[(len(taps) - 1) // 2 - radius:(len(taps) - 1) // 2 + radius + 1]
        padded = F.pad(x, (radius, radius, radius, radius), mode='reflect')
        blurred = F.conv2d(F.conv2d(padded, taps.view(1, 1, -1, 1)), taps.view(1, 1, 1, -1))
        x = x + (blurred - x) * u[:, 2].view(n, 1, 1, 1)
    if aug.get('contrast', 0) > 0:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * (1 + (u[:, 0] * 2 - 1) * aug['contrast']).view(n, 1, 1, 1) + mean
    if aug.get('gamma', 0) > 0:
        x = x.clamp(0, 1) ** ((1 + aug['gamma']) ** (u[:, 1] * 2 - 1)).view(n, 1, 1, 1)
    if aug.get('noise', 0) > 0:
        x = x + torch.randn_like(x) * (u[:, 3] * aug['noise']).view(n, 1, 1, 1)
    return x.clamp(0, 1)


def affine_matrices(uniform, aug, width, height):
    """The page's per-image affine maps (augment.ts affineMatrix), [n, 6] float64 rows (a0, a1, a2, b0, b1, b2):
    output pixel (x, y) reads the input at (a0 x + a1 y + a2, b0 x + b1 y + b2), pixel centres, y down. Keras'
    ImageDataGenerator in centred coordinates: rotation @ shift @ shear @ zoom, the mirror applied first."""
    u = uniform.double()

    def spread(column, limit):
        return (u[:, column] * 2 - 1) * limit

    rad = spread(0, aug.get('rotation', 0)) * math.pi / 180
    shift_x = spread(1, aug.get('shift', 0)) * width
    shift_y = spread(2, aug.get('shift', 0)) * height
    shear = spread(3, aug.get('shear', 0)) * math.pi / 180
    zoom_x = 1 + spread(4, aug.get('zoom', 0))
    zoom_y = 1 + spread(5, aug.get('zoom', 0))
    flip = (u[:, 6] < 0.5) & bool(aug.get('horizontalFlip', False))
    cos, sin = torch.cos(rad), torch.sin(rad)
    m00 = torch.where(flip, -zoom_x, zoom_x)
    m01 = -torch.sin(shear) * zoom_y
    m11 = torch.cos(shear) * zoom_y
    l00, l01 = cos * m00, cos * m01 - sin * m11
    l10, l11 = sin * m00, sin * m01 + cos * m11
    cx, cy = (width - 1) / 2, (height - 1) / 2
    ox = cx - (l00 * cx + l01 * cy) - (cos * shift_x - sin * shift_y)
    oy = cy - (l10 * cx + l11 * cy) - (sin * shift_x + cos * shift_y)
    return torch.stack([l00, l01, ox, l10, l11, oy], dim=1)


def augment_batch(x, aug, uniform):
    """x [n, 1, H, W] in 0..1, changed image by image as the page's augmentation (augment.ts): the affine map
    sampled bilinearly with edges repeating the nearest pixel (Keras' fill_mode='nearest', tf.image.transform's
    'nearest'), then brightness times a factor in 1 +- brightness, clipped to 0..1. `uniform` [n, 8] in 0..1."""
    n, _, height, width = x.shape
    if any(aug.get(key, 0) for key in ('rotation', 'zoom', 'shift', 'shear', 'horizontalFlip')):
        m = affine_matrices(uniform, aug, width, height).to(x.device, torch.float32)
        ys, xs = torch.meshgrid(torch.arange(height, device=x.device, dtype=torch.float32),
                                torch.arange(width, device=x.device, dtype=torch.float32), indexing='ij')
        in_x = m[:, 0, None, None] * xs + m[:, 1, None, None] * ys + m[:, 2, None, None]
        in_y = m[:, 3, None, None] * xs + m[:, 4, None, None] * ys + m[:, 5, None, None]
        # align_corners=True: -1 and 1 are the centres of the first and last pixels; 'border' clamps to the edge.
        grid = torch.stack([in_x * (2 / max(width - 1, 1)) - 1, in_y * (2 / max(height - 1, 1)) - 1], dim=-1)
        x = F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=True)
    if aug.get('brightness', 0) > 0:
        factor = 1 + (uniform[:, 7].to(x.device, torch.float32) * 2 - 1) * aug['brightness']
        x = (x * factor.view(n, 1, 1, 1)).clamp(0, 1)
    return x


# ------------------------------------------------------------------------------------------ loss and optimizer


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


def decay_kernels(model, learning_rate, decay):
    """Decoupled weight decay after a step (recipe.ts decayKernels): conv and Linear kernels times 1 - lr x decay."""
    if decay <= 0:
        return
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                module.weight.mul_(1 - learning_rate * decay)


def predicted_classes(probabilities):
    """Binary: class 1 when P(class 1) > 0.5 (tfjs' binaryAccuracy); otherwise the most probable class."""
    if probabilities.shape[1] == 1:
        return (probabilities[:, 0] > 0.5).long()
    return probabilities.argmax(dim=1)


class TfjsRMSprop(torch.optim.Optimizer):
    """RMSprop exactly as the page's TensorFlow.js runs it (Keras' defaults: rho 0.9, no momentum, epsilon 1e-7):
    ms = rho ms + (1 - rho) g^2;  w -= lr g / sqrt(ms + eps). tfjs adds epsilon inside the square root;
    torch.optim.RMSprop(alpha=0.9, eps=1e-7) adds it outside, which makes the steps of weights whose gradients are
    below about 1e-3 far larger than the page's (up to lr x 3.2 instead of lr x g / 3.2e-4)."""

    def __init__(self, params, lr, rho=0.9, eps=KERAS_EPSILON):
        super().__init__(params, {'lr': lr, 'rho': rho, 'eps': eps})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if 'mean_square' not in state:
                    state['mean_square'] = torch.zeros_like(p)
                ms = state['mean_square']
                ms.mul_(group['rho']).addcmul_(p.grad, p.grad, value=1 - group['rho'])
                p.addcdiv_(p.grad, ms.add(group['eps']).sqrt_(), value=-group['lr'])


def class_weights(counts, weighting):
    """Per-class loss weights: `balanced` is Keras' (scikit-learn's) total / (classes x count), 0 for a class without
    train images; `none` is all 1."""
    if weighting == 'none':
        return [1.0] * len(counts)
    total = sum(counts)
    return [total / (len(counts) * c) if c > 0 else 0.0 for c in counts]


# -------------------------------------------------------------------------------------------------- metrics


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


# ----------------------------------------------------------------------------------------- manifest, settings

SPLITS = ('train', 'validation', 'test')


# ------------------------------------------------------------------------------------- out of distribution

# One layer's features (dense_1): the detector of models saved before the feature ensemble, still judged as then.
OOD_METHOD = 'mahalanobis-tied-covariance'
# Lee et al. 2018's feature ensemble over OOD_LAYERS: what training fits now (the page's, src/eval/featureEnsemble.ts).
OOD_ENSEMBLE_METHOD = 'mahalanobis-feature-ensemble'
# The layers the feature ensemble reads, in the order an image's features are concatenated, and how each layer's
# output becomes numbers: the page's OOD_LAYERS (src/export/pytorch.test.ts checks that the two agree).
OOD_LAYERS = (('max_pooling2d_1', 'spatial-mean'), ('max_pooling2d_2', 'spatial-mean'),
              ('max_pooling2d_3', 'spatial-mean'), ('max_pooling2d_4', 'spatial-mean'), ('dense_1', 'none'))
OOD_POOLINGS = ('spatial-mean', 'none')
OOD_QUANTILE = 0.95  # About 5% of validation images are flagged.
OOD_RIDGE = 1e-6  # Added to the covariance's diagonal, relative to its mean variance (as the page).
OOD_MAX_FEATURES = 4096
OOD_MAX_CLASSES = 1000
OOD_MAX_LAYERS = 16


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


def mahalanobis_distances(features, gaussians):
    """Squared Mahalanobis distance of each row to the nearest class mean, under the shared precision (of a
    one-layer detector, or of one layer of a feature ensemble)."""
    features = np.asarray(features, dtype=np.float64)
    precision = np.asarray(gaussians['precision'], dtype=np.float64)
    best = np.full(len(features), np.inf)
    for mean in np.asarray(gaussians['classMeans'], dtype=np.float64):
        d = features - mean
        best = np.minimum(best, np.einsum('ij,jk,ik->i', d, precision, d))
    return best


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
    """The rows a detector judges from AppCnn.features_and_probabilities' features: `layers`' side by side."""
    return torch.cat([features[name] for name, _ in layers], dim=1)


def ood_scores(detector, features):
    """Each image's score (above the detector's threshold: unlike the training data), for rows of its
    ood_layers' features: the squared distance of a one-layer detector, or the feature ensemble's sum over layers
    of the squared distance over the layer's scale (float64, given as float32, as the page)."""
    if detector['method'] != OOD_ENSEMBLE_METHOD:
        return mahalanobis_distances(features, detector)
    widths = [len(layer['precision']) for layer in detector['layers']]
    features = np.asarray(features, dtype=np.float64).reshape(-1, sum(widths))
    sums = np.zeros(len(features))
    for layer, columns in zip(detector['layers'], layer_columns(widths)):
        sums += mahalanobis_distances(features[:, columns], layer) / layer['scale']
    return sums.astype(np.float32)


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


def ood_summary(detector, features):
    """{'images', 'flagged', 'share'} of images unlike the training data, as the page's summary."""
    scores = ood_scores(detector, features)
    flagged = int(np.sum(scores > detector['threshold']))
    return {'images': int(len(scores)), 'flagged': flagged, 'share': flagged / len(scores) if len(scores) else None}


def read_manifest(path, class_names):
    """Rows of manifest.csv (path, split, class, group), each with its class index. With no class order given,
    classes are sorted as Keras sorts class folders (code-point order, as Python's sorted)."""
    with open(path, newline='', encoding='utf-8') as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise SystemExit(f'{path} lists no images.')
    for column in ('path', 'split', 'class'):
        if column not in rows[0]:
            raise SystemExit(f'{path} has no "{column}" column: it should start with path,split,class,group.')
    class_names = list(class_names) if class_names else sorted({row['class'] for row in rows})
    index = {name: i for i, name in enumerate(class_names)}
    for number, row in enumerate(rows, start=2):
        if row['split'] not in SPLITS:
            raise SystemExit(f'{path} line {number}: split "{row["split"]}" is none of {", ".join(SPLITS)}.')
        if row['class'] not in index:
            raise SystemExit(f'{path} line {number}: class "{row["class"]}" is not one of {", ".join(class_names)}.')
        row['label'] = index[row['class']]
        row['group'] = row.get('group') or None
    return rows, class_names


def check_files(root, rows):
    missing = [row['path'] for row in rows if not os.path.isfile(os.path.join(root, row['path']))]
    if missing:
        shown = '\n  '.join(missing[:5])
        raise SystemExit(f'{len(missing)} of {len(rows)} images of the manifest are not under --data {root}, e.g.\n  '
                         f'{shown}\n--data must be the folder the manifest\'s paths start from.')


def here(name):
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), name)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog='Settings not given here come from settings.json (the page\'s form).')
    parser.add_argument('--data', help='the folder the paths of manifest.csv start from')
    parser.add_argument('--manifest', default=here('manifest.csv'), help='default: manifest.csv beside this file')
    parser.add_argument('--settings', default=here('settings.json'), help='default: settings.json beside this file')
    parser.add_argument('--out', default='out', help='where rank 0 writes model.zip, history.csv, ... (default: out)')
    parser.add_argument('--epochs', type=int, help='epochs (0: evaluate only, with --init)')
    parser.add_argument('--batch', type=int, help='images a batch in each process (global batch = this x processes)')
    parser.add_argument('--size', type=int, help='image size in px (must match --init\'s model)')
    parser.add_argument('--lr', type=float, help='learning rate')
    parser.add_argument('--schedule', choices=('constant', 'cosine'),
                        help='learning-rate schedule: constant, or cosine decay to 0 over all batches of the run')
    parser.add_argument('--seed', type=int, help='seed of initial weights, shuffling, augmentation and dropout')
    parser.add_argument('--patience', type=int, help='epochs without a new lowest validation loss before stopping; 0 = off')
    parser.add_argument('--snapshots', type=int,
                        help=f'snapshot ensemble of N members (1..{MAX_MEMBERS}; 1 = one model): the epochs split '
                             'into N cosine cycles, each restarting at the learning rate, a snapshot at each '
                             'cycle\'s end, saved as one model averaging them; no early stopping; two classes only')
    parser.add_argument('--seed-models', type=int,
                        help=f'seed ensemble of N members (1..{MAX_MEMBERS}; 1 = one model): N whole runs one after '
                             'another, member k from seed + 1009 k, each with its own early stopping, saved as one '
                             'model averaging them; two classes only')
    parser.add_argument('--model', choices=MODEL_NAMES, help='network (ignored with --init: the model decides)')
    parser.add_argument('--norm', choices=INTENSITY_NORMALISATIONS,
                        help='intensity normalisation: none, or per-image standardisation as the model\'s first layer '
                             '(ignored with --init: the model decides)')
    parser.add_argument('--init', help='start from this model.zip (downloaded from the page, or written here)')
    parser.add_argument('--workers', type=int, help='image decoding processes per training process (default: from the CPUs)')
    parser.add_argument('--device', choices=('auto', 'cpu', 'cuda'), default='auto')
    parser.add_argument('--predict', metavar='MODEL_ZIP', help='only predict --images with this model; prints JSON')
    parser.add_argument('--images', nargs='*', default=[], help='with --predict: image files')
    parser.add_argument('--with-pixels', action='store_true', help='with --predict: also print the preprocessed pixels')
    args = parser.parse_args(argv)
    if args.predict is None and not args.data:
        parser.error('--data DIR is needed (the folder the manifest\'s paths start from), or --predict MODEL_ZIP')
    return args


def run_settings(args):
    """settings.json (the page's Settings, plus classNames) with the command line's overrides."""
    settings = {}
    if os.path.isfile(args.settings):
        with open(args.settings, encoding='utf-8') as handle:
            settings = json.load(handle)
    defaults = {'model': 'batchnorm', 'imageSize': 150, 'epochs': 10, 'batchSize': 32, 'learningRate': 0.001,
                'learningRateSchedule': 'cosine', 'intensityNormalisation': 'none', 'labelSmoothing': 0, 'mixup': 0,
                'weightDecay': 1,
                'seed': 1, 'classWeighting': 'balanced', 'patience': 3, 'augmentation': {}, 'thresholdRule': 'sensitivity',
                'targetSensitivity': 95, 'classNames': None, 'snapshots': 1, 'seedModels': 1, 'ood': 'layers'}
    merged = {**defaults, **settings}
    for key, value in (('model', args.model), ('imageSize', args.size), ('epochs', args.epochs),
                       ('batchSize', args.batch), ('learningRate', args.lr), ('learningRateSchedule', args.schedule),
                       ('seed', args.seed), ('intensityNormalisation', args.norm),
                       ('patience', args.patience), ('snapshots', args.snapshots), ('seedModels', args.seed_models)):
        if value is not None:
            merged[key] = value
    if merged['epochs'] < 0 or merged['batchSize'] < 1 or merged['patience'] < 0:
        raise SystemExit('Epochs and patience must be 0 or more, the batch size at least 1.')
    snapshots = merged['snapshots']
    if isinstance(snapshots, bool) or not isinstance(snapshots, int) or not 1 <= snapshots <= MAX_MEMBERS:
        raise SystemExit(f'Snapshots must be a whole number from 1 to {MAX_MEMBERS} (got {str(snapshots)[:20]}).')
    seed_models = merged['seedModels']
    if isinstance(seed_models, bool) or not isinstance(seed_models, int) or not 1 <= seed_models <= MAX_MEMBERS:
        raise SystemExit(f'Seed models must be a whole number from 1 to {MAX_MEMBERS} (got {str(seed_models)[:20]}).')
    if merged['ood'] not in ('layers', 'last'):
        raise SystemExit(f'ood must be "layers" (the feature ensemble) or "last" (the last hidden layer alone), got '
                         f'{json.dumps(str(merged["ood"]))[:40]}.')
    if seed_models > 1 and snapshots > 1:
        raise SystemExit(f'A seed ensemble of {seed_models} and a snapshot ensemble of {snapshots} cannot be combined '
                         '(the saved model stacks one kind of member): set one of them to 1.')
    return merged


def snapshot_cycles(epochs, snapshots):
    """The epochs [start, end) of each of the snapshot ensemble's cycles, as equal as can be (ensemble-spec.md)."""
    return [(c * epochs // snapshots, (c + 1) * epochs // snapshots) for c in range(snapshots)]


def check_snapshots(settings, num_classes, init_members):
    """Refuses, in words, a snapshot ensemble that cannot be trained, and any training of an ensemble model."""
    if settings['epochs'] > 0 and init_members > 1:
        raise SystemExit(f'--init is a snapshot ensemble ({init_members} members saved as one model): it is for '
                         'predicting and evaluating only and cannot be trained further. Use --epochs 0 to evaluate '
                         'it, or --init a single model.')
    if settings['seedModels'] > 1 and settings['epochs'] > 0:
        if num_classes != 2:
            raise SystemExit(f'A seed ensemble needs exactly 2 classes (the manifest has {num_classes}): each member\'s '
                             'softmax cannot be averaged by the one Dense layer the saved model ends with. Use '
                             '--seed-models 1.')
    if settings['snapshots'] == 1 or settings['epochs'] == 0:
        return
    if num_classes != 2:
        raise SystemExit(ENSEMBLE_TWO_CLASSES.replace('. Use', f' (the manifest has {num_classes} classes). Use'))
    if settings['epochs'] < settings['snapshots']:
        raise SystemExit(f'A snapshot ensemble of {settings["snapshots"]} members needs at least '
                         f'{settings["snapshots"]} epochs (one cycle each), got {settings["epochs"]}: raise --epochs '
                         'or lower --snapshots.')


# ----------------------------------------------------------------------------------------------- distributed


# Seconds a process waits for its distributed process group to close at the end of a run (see Runtime.close).
CLOSE_TIMEOUT_S = 30


class Runtime:
    """Rank, world size and device; DistributedDataParallel when started by torchrun with more than one process."""

    def __init__(self, device_choice):
        self.world = int(os.environ.get('WORLD_SIZE', '1'))
        self.rank = int(os.environ.get('RANK', '0'))
        self.local_rank = int(os.environ.get('LOCAL_RANK', '0'))
        self.local_world = int(os.environ.get('LOCAL_WORLD_SIZE', str(self.world)))
        use_cuda = torch.cuda.is_available() if device_choice == 'auto' else device_choice == 'cuda'
        if use_cuda:
            torch.cuda.set_device(self.local_rank % torch.cuda.device_count())
            self.device = torch.device('cuda', torch.cuda.current_device())
        else:
            # Threads per process: torch's default, or OMP_NUM_THREADS (torchrun sets 1 when it starts several
            # processes and it is unset; on a CPU-only machine set it to cores / processes).
            self.device = torch.device('cpu')
        self.distributed = self.world > 1
        if self.distributed:
            dist.init_process_group('nccl' if use_cuda else 'gloo')

    @property
    def main(self):
        return self.rank == 0

    def log(self, *parts):
        if self.main:
            print(*parts, flush=True)

    def sum(self, values):
        """Element-wise sum over the processes of a list of floats."""
        if not self.distributed:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def gather(self, obj):
        if not self.distributed:
            return [obj]
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def close(self, finished):
        if not self.distributed:
            return
        if not finished:  # After a failure the others may never reach a barrier (torchrun ends them); the error prints.
            dist.destroy_process_group()
            return
        dist.barrier()
        # Debian's torch 1.13 with gloo once hung here for good, in one of many runs: after the barrier (the model
        # written), a process spun on a core until killed. The group is closed in a thread; if it has not closed in
        # CLOSE_TIMEOUT_S, or once it has (the same hang can come at interpreter exit), the process ends at once:
        # everything it had to write is written and flushed.
        closed = threading.Event()
        threading.Thread(target=lambda: (dist.destroy_process_group(), closed.set()), daemon=True).start()
        if not closed.wait(CLOSE_TIMEOUT_S):
            print(f'process {self.rank}: the process group did not close in {CLOSE_TIMEOUT_S} s; ending the process anyway.', file=sys.stderr, flush=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


# ------------------------------------------------------------------------------------------------ training


def evaluate(model, rows, root, size, batch, runtime, workers, feature_layers=None):
    """Probabilities of every image of `rows` (in their order), each process scoring a share; every process gets
    them all. The bare module, not the DDP wrapper: the shares may differ in batches, and DDP's forward syncs.
    With `feature_layers` ([(name, pooling)], as OOD_LAYERS), (probabilities, each image's features of those layers
    side by side), from the same forward pass."""
    indices = list(range(runtime.rank, len(rows), runtime.world))
    loader = torch.utils.data.DataLoader(ImageFiles(root, [rows[i] for i in indices], size), batch_size=batch,
                                         num_workers=workers, pin_memory=runtime.device.type == 'cuda')
    width = 1 if model.num_classes == 2 else model.num_classes
    mine = np.zeros((len(indices), width), dtype=np.float32)
    layers = list(feature_layers or ())
    mine_features = np.zeros((len(indices), sum(model.ood_layer_width(*layer) for layer in layers)), dtype=np.float32)
    score = scorer(model)
    with torch.no_grad():
        for pixels, _, local in loader:
            features, probabilities = score(to_input(pixels, runtime.device))
            mine[local.numpy()] = probabilities.float().cpu().numpy()
            if layers:
                mine_features[local.numpy()] = ood_rows(features, layers).float().cpu().numpy()
    out = np.zeros((len(rows), width), dtype=np.float32)
    out_features = np.zeros((len(rows), mine_features.shape[1]), dtype=np.float32)
    for rank, (part, part_features) in enumerate(runtime.gather((mine, mine_features))):
        out[rank::runtime.world] = part
        out_features[rank::runtime.world] = part_features
    return out if feature_layers is None else (out, out_features)


def rate_of_step(settings, cycles, epoch, steps_per_epoch):
    """The learning rate of each of the run's steps (counted from its start) in `epoch`: the run's schedule over all
    its steps; for a snapshot ensemble (more than one cycle), a cosine over the steps of the epoch's cycle."""
    base = settings['learningRate']
    if len(cycles) == 1:
        return lambda step: learning_rate_at(settings['learningRateSchedule'], base, step,
                                             settings['epochs'] * steps_per_epoch)
    start, end = next((start, end) for start, end in cycles if start <= epoch < end)
    steps = (end - start) * steps_per_epoch
    return lambda step: learning_rate_at('cosine', base, step - start * steps_per_epoch, steps)


def synced_state(model, runtime):
    """A copy of all of the model's weights (BatchNorm's running statistics too) as rank 0 holds them, in every
    process (each process's running statistics drift by its own last batch)."""
    state = {key: value.detach().clone() for key, value in model.state_dict().items()}
    if runtime.distributed:
        for value in state.values():
            dist.broadcast(value, src=0)
    return {key: value.cpu() for key, value in state.items()}


def single_model_of(settings, size, num_classes, state):
    member = AppCnn(settings['model'], size, num_classes, settings['intensityNormalisation'])
    member.load_state_dict(state)
    member.eval()
    return member


def learning_rate_at(schedule, base, step, total_steps):
    """As the page (src/model/learningRate.ts): base throughout, or base x (1 + cos(pi step / total)) / 2."""
    if schedule == 'constant' or total_steps <= 0:
        return base
    return base * (1 + math.cos(math.pi * min(max(step / total_steps, 0.0), 1.0))) / 2


def train_epoch(trainer, loader, optimizer, runtime, class_weight, aug, augment_random, rate_of_step=None, first_step=0,
                recipe=None):
    """One pass over this process's share of the train split, one optimizer step a batch. Returns the epoch's loss
    and accuracy as Keras reports them (the mean over all processes' images of each batch's figure) and the images.
    `rate_of_step(step)` (the run's step count, from `first_step`) sets the learning rate before each step. `recipe`:
    the page's labelSmoothing, mixup and weightDecay (0 = off)."""
    recipe = recipe or {}
    soft = recipe.get('labelSmoothing', 0) > 0 or recipe.get('mixup', 0) > 0
    trainer.train()
    # Summed on the device: reading a number back after every batch would stall a GPU.
    loss_sum = torch.zeros((), dtype=torch.float64, device=runtime.device)
    right = torch.zeros((), dtype=torch.float64, device=runtime.device)
    seen = 0
    for index, (pixels, labels, _) in enumerate(loader):
        if rate_of_step is not None:
            for group in optimizer.param_groups:
                group['lr'] = rate_of_step(first_step + index)
        x = to_input(pixels, runtime.device)
        labels = labels.to(runtime.device)
        if aug is not None:
            x = augment_batch(x, aug, torch.rand(len(labels), DRAWS_PER_IMAGE, generator=augment_random))
            if any(aug.get(key, 0) for key in ACQUISITION_KEYS):
                draws = torch.rand(len(labels), ACQUISITION_DRAWS_PER_IMAGE, generator=augment_random)
                x = acquisition_batch(x, aug, draws)
        if soft:
            x, targets, weights = regularised_batch(x, labels, len(class_weight), class_weight, recipe, augment_random)
        probabilities = trainer(x)
        # Keras' reduction with class weights: the mean over the batch of weight x loss (not divided by the weights).
        if soft:
            loss = (soft_cross_entropy(probabilities, targets) * weights).mean()
        else:
            loss = (per_image_cross_entropy(probabilities, labels, len(class_weight)) * class_weight[labels]).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        decay_kernels(trainer, optimizer.param_groups[0]['lr'], recipe.get('weightDecay', 0))
        loss_sum += loss.detach().double() * len(labels)
        right += (predicted_classes(probabilities.detach()) == labels).sum().double()
        seen += len(labels)
    loss_sum, right, seen = runtime.sum([loss_sum.item(), right.item(), float(seen)])
    return loss_sum / seen, right / seen, seen


def train(args):
    runtime = Runtime(args.device)
    settings = run_settings(args)
    started = time.time()
    finished = False
    try:
        init_model, init_metadata = (load_app_model(args.init) if args.init else (None, {}))
        rows, class_names = read_manifest(args.manifest, settings.get('classNames') or init_metadata.get('classNames'))
        if init_model is not None:
            if init_metadata.get('classNames') and init_metadata['classNames'] != class_names:
                raise SystemExit(f'--init was trained on classes {init_metadata["classNames"]}, the manifest has {class_names}.')
            if args.size is not None and args.size != init_model.image_size:
                raise SystemExit(f'--size {args.size} differs from --init\'s {init_model.image_size} px.')
            settings['model'], settings['imageSize'] = init_model.model_name, init_model.image_size
            settings['intensityNormalisation'] = init_model.intensity_normalisation
        size, num_classes = settings['imageSize'], len(class_names)
        init_members = init_model.members if init_model is not None else 1
        check_snapshots(settings, num_classes, init_members)
        if settings['seedModels'] > 1 and settings['epochs'] > 0 and init_model is not None:
            raise SystemExit('A seed ensemble starts each member from its own seed: train it without --init.')
        # Cycles and snapshots only when training: --epochs 0 evaluates the model as it is.
        snapshots = settings['snapshots'] if settings['epochs'] > 0 else 1
        split_rows = {name: [row for row in rows if row['split'] == name] for name in SPLITS}
        check_files(args.data, rows)
        workers = args.workers if args.workers is not None else max(0, min(4, (os.cpu_count() or 1) // runtime.local_world - 1))

        # A seed ensemble (the page's Seed ensemble): whole runs one after another, member k initialised, shuffled
        # and augmented from seed + 1009 k, each with its own epochs and early stopping; stacked as the snapshots are.
        seed_models = settings['seedModels'] if settings['epochs'] > 0 else 1
        history, member_states = [], []
        for member in range(seed_models):
            seed = settings['seed'] + 1009 * member
            if seed_models > 1:
                runtime.log(f'Seed ensemble: member {member + 1} of {seed_models}, seed {seed}.')
            torch.manual_seed(seed)  # The same initial weights in every process.
            model = AppCnn(settings['model'], size, num_classes, settings['intensityNormalisation'], init_members)
            if init_model is not None:
                if init_model.num_classes != num_classes:
                    raise SystemExit(f'--init has {init_model.num_classes} outputs, the manifest {num_classes} classes.')
                model.load_state_dict(init_model.state_dict())
            model.to(runtime.device)
            # Dropout and augmentation draw differently in each process (each sees other images anyway).
            torch.manual_seed(seed * 1000003 + runtime.rank)
            augment_random = torch.Generator().manual_seed(seed * 7919 + 17 + runtime.rank)
            trainer = model
            if runtime.distributed:
                # Averages the gradients of the processes at each step; its forward also hands every process rank 0's
                # BatchNorm running statistics.
                trainer = nn.parallel.DistributedDataParallel(
                    model, device_ids=[runtime.device.index] if runtime.device.type == 'cuda' else None)
            optimizer = TfjsRMSprop(model.parameters(), lr=settings['learningRate'])

            counts = [sum(1 for row in split_rows['train'] if row['label'] == c) for c in range(num_classes)]
            weights = class_weights(counts, settings['classWeighting'])
            weight_of = torch.tensor(weights, dtype=torch.float32, device=runtime.device)
            aug = settings.get('augmentation') or {}
            augmenting = is_augmenting(aug)
            runtime.log(f'{len(rows)} images: ' + ', '.join(f'{name} {len(split_rows[name])}' for name in SPLITS)
                        + f'; classes {", ".join(class_names)}; model {settings["model"]} at {size} px'
                        + f', intensity normalisation {settings["intensityNormalisation"]}'
                        + (f' (from {args.init})' if args.init else ''))
            runtime.log(f'{runtime.world} process(es) on {runtime.device.type}; batch {settings["batchSize"]} a process '
                        f'(global {settings["batchSize"] * runtime.world}); learning rate {settings["learningRate"]} ({settings["learningRateSchedule"]}); '
                        f'class weights ' + (', '.join(f'{n} {w:.2f}' for n, w in zip(class_names, weights))
                                             if settings['classWeighting'] != 'none' else 'none')
                        + f'; augmentation {json.dumps(aug) if augmenting else "off"}; patience {settings["patience"]}')
            cycles = snapshot_cycles(settings['epochs'], snapshots)
            if snapshots > 1:
                runtime.log(f'Snapshot ensemble of {snapshots}: cycles of epochs '
                            + ', '.join(f'{start + 1}-{end}' for start, end in cycles)
                            + '; the learning rate restarts at its base each cycle and falls on a cosine whatever the '
                              'schedule; a snapshot at each cycle\'s end; no early stopping (every cycle is needed).')

            # Each process takes its share of a fresh shuffle each epoch; the shares are made equal by repeating a few
            # images (so every process runs as many steps), and the last batch keeps the remainder, as Keras'.
            train_set = ImageFiles(args.data, split_rows['train'], size)
            sampler = torch.utils.data.distributed.DistributedSampler(
                train_set, num_replicas=runtime.world, rank=runtime.rank, shuffle=True, seed=seed, drop_last=False)
            loader = torch.utils.data.DataLoader(train_set,
                                                 batch_size=settings['batchSize'], sampler=sampler, num_workers=workers,
                                                 pin_memory=runtime.device.type == 'cuda', drop_last=False,
                                                 persistent_workers=workers > 0)
            if settings['epochs'] > 0 and not split_rows['train']:
                raise SystemExit('The manifest has no train rows.')
            if not split_rows['validation']:
                runtime.log('No validation rows: no early stopping, the last epoch\'s weights are kept.')

            best_loss, best_epoch, best_state, epochs_done, stopped_early = math.inf, -1, None, 0, False
            patience = settings['patience'] if snapshots == 1 else 0
            snapshot_states = []
            for epoch in range(settings['epochs']):
                epoch_started = time.time()
                sampler.set_epoch(epoch)
                loss, accuracy, seen = train_epoch(
                    trainer, loader, optimizer, runtime, weight_of, aug if augmenting else None, augment_random,
                    rate_of_step(settings, cycles, epoch, len(loader)), epoch * len(loader),
                    {key: settings.get(key, 0) for key in ('labelSmoothing', 'mixup', 'weightDecay')})
                train_seconds = time.time() - epoch_started
                val_scores = evaluate(model, split_rows['validation'], args.data, size, settings['batchSize'], runtime, workers)
                val_loss, val_accuracy = score_metrics(val_scores, np.array([r['label'] for r in split_rows['validation']]), num_classes)
                epochs_done = epoch + 1
                # Early stopping as the page (Keras' EarlyStopping(val_loss, patience, restore_best_weights=True)).
                improved = val_loss < best_loss
                if improved:
                    best_loss, best_epoch = val_loss, epoch
                    if patience > 0:
                        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                seconds = time.time() - epoch_started
                history.append({'epoch': member * settings['epochs'] + epochs_done, 'loss': loss, 'accuracy': accuracy,
                                'val_loss': val_loss, 'val_accuracy': val_accuracy, 'best_val_loss': best_loss,
                                'seconds': seconds, 'images_per_second': seen / train_seconds})
                runtime.log(f'epoch {epochs_done}/{settings["epochs"]}: loss {loss:.4f}, accuracy '
                            f'{accuracy:.4f}, validation loss {val_loss:.4f}, validation accuracy {val_accuracy:.4f}'
                            f'{" (best)" if improved else ""}; {seconds:.1f} s, training {seen / train_seconds:.0f} images/s')
                if snapshots > 1 and any(end == epochs_done for _, end in cycles):
                    snapshot_states.append(synced_state(model, runtime))
                    runtime.log(f'snapshot {len(snapshot_states)}/{snapshots} taken (end of epoch {epochs_done})')
                if patience > 0 and not improved and epoch - best_epoch >= patience and epoch < settings['epochs'] - 1:
                    stopped_early = True
                    break

            restored = best_state is not None
            if restored:
                model.load_state_dict(best_state)
            if seed_models > 1:
                member_states.append(synced_state(model, runtime))
        if seed_models > 1:
            model = stack_members([single_model_of(settings, size, num_classes, state) for state in member_states])
            model.to(runtime.device)
            runtime.log(f'Stacked the {seed_models} members into one model: the mean of their probabilities.')
        if snapshots > 1:
            # Every process stacks the same snapshots (rank 0's), to score its share; only rank 0 writes.
            model = stack_members([single_model_of(settings, size, num_classes, state) for state in snapshot_states])
            model.to(runtime.device)
            runtime.log(f'Stacked the {snapshots} snapshots into one model: the mean of their probabilities.')
        if settings['epochs'] > 0:
            runtime.log(('Stopped early after' if stopped_early else 'Trained all') + f' {epochs_done} epoch(s)'
                        + (f'; weights of epoch {best_epoch + 1} restored (lowest validation loss).' if restored else '.'))
        # As the page: the epochs the kept weights had, up to the best epoch when it was restored.
        trained_epochs = (best_epoch + 1 if restored else epochs_done) + int(init_metadata.get('trainedEpochs') or 0)

        # Final figures: the threshold is chosen on validation, and only the manifest's test rows make test figures.
        val_labels = np.array([r['label'] for r in split_rows['validation']], dtype=np.int64)

        # Unlike the training data: a trained model gets the feature-ensemble detector fitted on its training
        # images, as the page fits one; an evaluated one (--epochs 0) judges with the one its metadata.json carries
        # (either method: a model saved before the feature ensemble judges with dense_1 alone, as then).
        fits_detector = settings['epochs'] > 0 and bool(split_rows['train'])
        detector = None if fits_detector else check_ood_detector(init_metadata.get('outOfDistribution'), model)
        # The page's `Unlike-training detector`: the feature ensemble (`layers`) or dense_1 alone (`last`).
        fit_layers = OOD_LAYERS if settings['ood'] == 'layers' else (('dense_1', 'none'),)
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
            if settings['ood'] == 'layers':
                detector = fit_feature_ensemble_detector(
                    train_features, train_labels, val_features, num_classes,
                    [(name, pooling, model.ood_layer_width(name, pooling)) for name, pooling in OOD_LAYERS])
            else:
                detector = fit_ood_detector(train_features, train_labels, val_features, num_classes)
        if runtime.main:
            os.makedirs(args.out, exist_ok=True)
            write_history(os.path.join(args.out, 'history.csv'), history)
            report = {'validation': split_report(val_scores, val_labels, class_names, positive, threshold)}
            if test_scores is not None:
                test_labels = np.array([r['label'] for r in split_rows['test']], dtype=np.int64)
                report['test'] = split_report(test_scores, test_labels, class_names, positive, threshold)
                write_predictions(os.path.join(args.out, 'test_predictions.csv'), split_rows['test'], test_scores, class_names,
                                  ood_scores(detector, test_features) if detector else None,
                                  detector['threshold'] if detector else None)
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
                    'resize': f'squashed to {size} x {size} (aspect ratio not kept), EXIF orientation applied',
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
        finished = True
    finally:
        runtime.close(finished)


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


def write_predictions(path, rows, scores, class_names, distances=None, ood_threshold=None):
    """With a detector, two more columns: its score (ood_scores) and whether it is above the cut."""
    with open(path, 'w', newline='', encoding='utf-8') as handle:
        writer = csv.writer(handle, lineterminator='\n')
        names = [class_names[1]] if scores.shape[1] == 1 else class_names
        ood = [] if distances is None else ['ood_distance', 'unlike_training_data']
        writer.writerow(['path', 'class', 'group'] + [f'p_{name}' for name in names] + ood)
        for i, (row, score) in enumerate(zip(rows, scores)):
            judged = [] if distances is None else [f'{distances[i]:.9g}', 'yes' if distances[i] > ood_threshold else 'no']
            writer.writerow([row['path'], row['class'], row['group'] or ''] + [f'{float(s):.9g}' for s in score] + judged)


def write_model_zip(path, model, settings, metadata):
    model_json, weights = model_files(model, settings['learningRate'], int(settings['seed']))
    if metadata.get('outOfDistribution'):
        # Where the page keeps it too: a model.json loaded alone still judges.
        model_json = json.dumps({**json.loads(model_json), 'userDefinedMetadata': {'outOfDistribution': metadata['outOfDistribution']}})
    partial = path + '.partial'
    with zipfile.ZipFile(partial, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.writestr('model.json', model_json)
        archive.writestr('weights.bin', weights)
        archive.writestr('metadata.json', json.dumps(metadata, indent=2))
    os.replace(partial, path)
    return path


def predict(args):
    """Prints {"classNames", "imageSize", "images": [{"path", "probabilities"[, "memberProbabilities"][, "oodDistance",
    "unlikeTrainingData"][, "pixels"]}]} as JSON; the out-of-distribution fields when the model's metadata.json
    carries the statistics, each member's P(class 1) when the model is a snapshot ensemble."""
    model, metadata = load_app_model(args.predict)
    detector = check_ood_detector(metadata.get('outOfDistribution'), model)
    out = []
    score = scorer(model)
    with torch.no_grad():
        for path in args.images:
            pixels = load_grey(path, model.image_size)
            features, probabilities = score(
                torch.from_numpy(pixels.copy()).float().mul_(1.0 / 255.0).view(1, 1, *pixels.shape))
            item = {'path': path, 'probabilities': [float(p) for p in probabilities[0]]}
            if model.members > 1:
                # Each member's P(class 1): their spread is the members' disagreement.
                item['memberProbabilities'] = [float(p) for p in model.member_probabilities(features['dense_1'])[0]]
            if detector:
                distance = float(ood_scores(detector, ood_rows(features, ood_layers(detector)).double().numpy())[0])
                item.update({'oodDistance': distance, 'unlikeTrainingData': distance > detector['threshold']})
            if args.with_pixels:
                item['pixels'] = pixels.reshape(-1).tolist()
            out.append(item)
    json.dump({'classNames': metadata.get('classNames'), 'imageSize': model.image_size, 'images': out}, sys.stdout)
    sys.stdout.write('\n')


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.predict:
        predict(args)
    else:
        train(args)


if __name__ == '__main__':
    main()
