"""Scoring a split: each process scores its share of the images, and every process gets all of the probabilities
(and, when asked, the features the out-of-distribution detector reads)."""

import numpy as np
import torch

from .ensemble import scorer
from .images import ImageFiles, to_input
from .ood import ood_rows


def evaluate(model, rows, root, size, batch, runtime, workers, feature_layers=None):
    """Probabilities of every image of `rows` (in their order), each process scoring a share; every process gets
    them all. The bare module, not the DDP wrapper: the shares may differ in batches, and DDP's forward syncs.
    With `feature_layers` ([(name, pooling)], as OOD_LAYERS, `image` the input's detail), (probabilities, each
    image's features of those layers side by side), from the same forward pass."""
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
