"""Image files as the page sees them: decoded, oriented, squashed and made grey (load_grey), one split's files as a
torch Dataset, and a batch of them as the network's input."""

import os

import numpy as np
import torch

try:
    from PIL import Image, ImageOps
except ImportError:  # Reported when an image is read: --predict of a model alone, and --help, work without it.
    Image = None
    ImageOps = None


NORMALISATION = 'grey = 0.299 R + 0.587 G + 0.114 B, then pixel / 255 (values in 0..1)'
# How load_grey decodes, as the page's metadata.json names it (core/inputDecoding.ts): JPEGs at a scale covering the size.
INPUT_DECODING = 'decoded-at-or-above-size'


def resize_text(size):
    """metadata.json's `resize`, as the page writes it (core/inputDecoding.ts resizeText)."""
    return (f'decoded at {size} px or more (a JPEG at the smallest eighth of its size that covers {size} px), then squashed '
            f'to {size} x {size} (aspect ratio not kept), EXIF orientation applied')


def load_grey(path, size):
    """An image file as the page sees it: [size, size] uint8 grey.

    As the page: JPEGs decoded at the smallest DCT scale whose result still covers `size` (PIL's draft offers 1/2,
    1/4 and 1/8; the page any n/8), EXIF orientation applied, fully transparent pixels black and alpha dropped, squashed to size x size
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
