"""model.zip, the page's download and what this script writes: model.json + weights.bin + metadata.json, read into an
AppCnn (checked as the page's own format) and written from one."""

import json
import os
import zipfile

import numpy as np

from .network import ENSEMBLE_LAYER, MAX_MEMBERS, AppCnn
from .tfjs_format import from_tfjs, model_files, tfjs_weight_names, torch_key


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
