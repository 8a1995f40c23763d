"""The page's network in PyTorch (src/model/cnn.ts, models.ts): AppCnn, its layers and the constants that fix its
shape. Modules are named as the TensorFlow.js layers, so that the weights convert name for name (tfjs_format.py)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from .ood import DETAIL_OCTAVES, IMAGE_DETAIL_LAYER, MIN_DETAIL_SIZE, image_detail


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
        network has no such layer to read that way. The input's detail (IMAGE_DETAIL_LAYER) is DETAIL_OCTAVES
        numbers, however many members: it is read once, from the one input they share."""
        if pooling == IMAGE_DETAIL_LAYER[1] or name == IMAGE_DETAIL_LAYER[0]:
            big = self.image_size >= MIN_DETAIL_SIZE
            return DETAIL_OCTAVES if (name, pooling) == IMAGE_DETAIL_LAYER and big else None
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
        its rows and columns (channel order = the page's) and `image`, the input's detail (image_detail), read
        before per-image standardisation as the page reads the model's input."""
        features = {}
        detail = image_detail(x) if pooled and self.image_size >= MIN_DETAIL_SIZE else None
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
        if detail is not None:
            features[IMAGE_DETAIL_LAYER[0]] = detail
        return features, self.head(features['dense_1'])
