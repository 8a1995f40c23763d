#!/usr/bin/env python3
"""Would histogram equalisation inside the model help? A study tool outside the app (docs/benchmarks.md,
"Histogram equalisation inside the model"): it runs the PyTorch bundle's trainer (src/export/pytorch/train.py) or
scripts/shift_study.py with an equalisation step put in front of the network, where a first layer of the model would
sit: after augmentation and after the study's shifts, before the convolutions. The step is OpenCV's (Debian's
python3-opencv) on the image as 8-bit grey, without gradients, so no export carries it; it is measured first, and
built into the app's formats only if it pays (docs/model-levers.md, "Histogram equalisation and CLAHE").

    python3 scripts/equalisation_study.py clahe train --data DIR --manifest manifest_A.csv --settings s.json --out o
    python3 scripts/equalisation_study.py clahe study --data DIR --manifest manifest_A.csv --model o/model.zip

The first word picks the step: `none` (the app's network as is), `clahe` (contrast-limited adaptive histogram
equalisation, clip limit 2, 8 x 8 tiles, as radiology pipelines commonly use) or `global` (plain histogram
equalisation of the whole image). The second word is the tool to run; the rest are its own arguments. Run `study`
with the same step the model was trained with.
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'src', 'export', 'pytorch'))
sys.path.insert(0, HERE)

STEPS = ('none', 'clahe', 'global')
TOOLS = ('train', 'study')


def equaliser(step):
    """[n, 1, S, S] float in 0..1 -> the same, each image equalised as 8-bit grey (None for `none`)."""
    if step == 'none':
        return None
    import cv2  # Debian: python3-opencv

    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    apply = clahe.apply if step == 'clahe' else cv2.equalizeHist

    def equalise(x):
        grey = (x.detach().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
        out = np.stack([apply(np.ascontiguousarray(image[0]))[None] for image in grey])
        return torch.from_numpy(out).to(x.device, torch.float32).mul_(1.0 / 255.0)

    return equalise


def install(step):
    """Puts the step in front of every AppCnn this process builds or loads, where the page's normalisation layer sits
    (the network's `per_image_standardization` slot, which training, validation, test scoring and shift_study's
    feature path all go through; the input's detail is read before it, as the page reads it)."""
    equalise = equaliser(step)
    if equalise is None:
        return
    from xray_trainer import network

    class Equalise(torch.nn.Module):
        def __init__(self, then=None):
            super().__init__()
            self.then = then

        def forward(self, x):
            x = equalise(x)
            return x if self.then is None else self.then(x)

    original = network.AppCnn.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.per_image_standardization = Equalise(self.per_image_standardization)

    network.AppCnn.__init__ = __init__
    print(f'equalisation_study: {step} in front of the network', file=sys.stderr)


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in STEPS or sys.argv[2] not in TOOLS:
        sys.exit(__doc__)
    step, tool, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    install(step)
    if tool == 'train':
        import train

        train.main(rest)
    else:
        import shift_study

        sys.argv[:] = ['shift_study.py', 'study'] + rest
        shift_study.main()


if __name__ == '__main__':
    main()
