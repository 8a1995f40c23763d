"""The page's augmentation (src/worker/augment.ts) on a batch: the affine draws and brightness, then the acquisition
changes (blur, contrast, gamma, noise)."""

import math

import torch
import torch.nn.functional as F


# Random numbers each image draws (src/worker/augment.ts): rotation, shift x, shift y, shear, zoom x, zoom y, flip,
# brightness; always all 8, so turning one change on leaves the others' draws as they were.
DRAWS_PER_IMAGE = 8


# The acquisition changes' draws (augment.ts acquisitionParams): contrast, gamma, blur weight, noise sd, noise seed.
ACQUISITION_DRAWS_PER_IMAGE = 5
ACQUISITION_KEYS = ('contrast', 'gamma', 'blur', 'noise')

# The framing's draws (augment.ts framingParams): cropped or not, the window's side, its offset x and y.
FRAMING_DRAWS_PER_IMAGE = 4
GEOMETRIC_KEYS = ('rotation', 'zoom', 'shift', 'shear', 'horizontalFlip', 'crop')


def is_augmenting(aug):
    keys = GEOMETRIC_KEYS + ('brightness',) + ACQUISITION_KEYS
    return any(aug.get(key, 0) for key in keys)


def framing_windows(framing, crop, width, height):
    """The page's framing (augment.ts framingParams) from `framing` [n, 4] in 0..1: half the images (first draw under
    0.5) cropped to a window of 1 - crop .. 1 times the side, anywhere inside the image. [n] scale, offset x, offset y
    (pixels from the image's centre to the window's); 1, 0, 0 for the whole frame."""
    u = framing.double()
    cropped = (u[:, 0] < 0.5) & (crop > 0)
    scale = 1 - u[:, 1] * crop
    offset_x = (u[:, 2] * 2 - 1) * ((1 - scale) * (width - 1)) / 2
    offset_y = (u[:, 3] * 2 - 1) * ((1 - scale) * (height - 1)) / 2
    zero = torch.zeros_like(scale)
    return torch.where(cropped, scale, zero + 1), torch.where(cropped, offset_x, zero), torch.where(cropped, offset_y, zero)


def gaussian_kernel(sigma):
    """The page's normalised 1-D Gaussian (gaussianBlur.ts gaussianKernel): radius ceil(3 sigma), at least 1."""
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


def affine_matrices(uniform, aug, width, height, framing=None):
    """The page's per-image affine maps (augment.ts affineMatrix), [n, 6] float64 rows (a0, a1, a2, b0, b1, b2):
    output pixel (x, y) reads the input at (a0 x + a1 y + a2, b0 x + b1 y + b2), pixel centres, y down. Keras'
    ImageDataGenerator in centred coordinates: rotation @ shift @ shear @ zoom, the mirror applied first; with
    `framing` ([n, 4] draws, crop on) the window is cropped before all of that."""
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
    if framing is None:
        s, off_x, off_y = torch.ones_like(rad), torch.zeros_like(rad), torch.zeros_like(rad)
    else:
        s, off_x, off_y = framing_windows(framing, aug.get('crop', 0), width, height)
    l00, l01 = s * cos * m00, s * (cos * m01 - sin * m11)
    l10, l11 = s * sin * m00, s * (sin * m01 + cos * m11)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    ox = cx - (l00 * cx + l01 * cy) - s * (cos * shift_x - sin * shift_y) + off_x
    oy = cy - (l10 * cx + l11 * cy) - s * (sin * shift_x + cos * shift_y) + off_y
    return torch.stack([l00, l01, ox, l10, l11, oy], dim=1)


def augment_batch(x, aug, uniform, framing=None):
    """x [n, 1, H, W] in 0..1, changed image by image as the page's augmentation (augment.ts): the affine map
    sampled bilinearly with edges repeating the nearest pixel (Keras' fill_mode='nearest', tf.image.transform's
    'nearest'), then brightness times a factor in 1 +- brightness, clipped to 0..1. `uniform` [n, 8] in 0..1;
    `framing` [n, 4] in 0..1, the crop's draws (needed when crop is on)."""
    n, _, height, width = x.shape
    if any(aug.get(key, 0) for key in GEOMETRIC_KEYS):
        m = affine_matrices(uniform, aug, width, height, framing).to(x.device, torch.float32)
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
