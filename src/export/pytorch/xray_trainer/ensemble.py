"""Ensembles saved as one model (ensemble-spec.md): K single models stacked block by block into one AppCnn whose
output is the mean of theirs, taken apart again, and scored member by member."""

import torch

from .network import CONV_FILTERS, AppCnn
from .ood import IMAGE_DETAIL_LAYER


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
        # Member k owns block k of every layer's channels and units: each layer's features side by side; the
        # input's detail (IMAGE_DETAIL_LAYER) is the one input's, once.
        parts = [member.features_and_probabilities(x, pooled) for member in members]
        features = {name: first if name == IMAGE_DETAIL_LAYER[0] else torch.cat([f[name] for f, _ in parts], dim=1)
                    for name, first in parts[0][0].items()}
        return features, model.ensemble_average(torch.cat([p for _, p in parts], dim=1))

    return members_features_and_probabilities
