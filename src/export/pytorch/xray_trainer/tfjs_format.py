"""The page's model format (TensorFlow.js layers): weight names and order, each weight's layout, and model.json's
topology, written from an AppCnn."""

import json

import numpy as np
import torch

from .network import (BN_EPSILON, BN_MOMENTUM, CONV_FILTERS, DENSE_UNITS, ENSEMBLE_KERNEL, ENSEMBLE_LAYER,
                      KERAS_EPSILON)


TFJS_LAYERS_VERSION = '4.22.0'


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
