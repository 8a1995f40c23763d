#!/usr/bin/env python3
"""A copy of the benchmark archive whose normal films carry, in part, the pneumonia films' softness: a study of how
much a model trained on it still reads fine detail as the disease (docs/benchmarks.md, "Balancing fine detail between
the classes"). Every other `IM-` normal film (sorted by name) is blurred (PIL's Gaussian, sigma 1.2 px at its stored
224 px: its detail at 150 px falls from the normals' mean, -2.38, to about the pneumonia films', -2.69) and saved as
a grey JPEG (quality 95); every other entry is copied as it is. Folds A and C hold the `NORMAL2-` normals out, so
their held-out films are untouched.

  python3 scripts/detail_balanced_zip.py ../shared/data/chest_xray_train_224.zip /tmp/cx-balanced.zip
"""
import io
import sys
import zipfile

from PIL import Image, ImageFilter

SIGMA = 1.2


def main(source, target):
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, 'w', zipfile.ZIP_STORED) as out:
        normals = sorted(n for n in src.namelist() if '/NORMAL/' in n and n.rsplit('/', 1)[-1].startswith('IM-'))
        blurred = set(normals[::2])
        for info in src.infolist():
            data = src.read(info)
            if info.filename in blurred:
                image = Image.open(io.BytesIO(data)).convert('L').filter(ImageFilter.GaussianBlur(SIGMA))
                buffer = io.BytesIO()
                image.save(buffer, 'JPEG', quality=95)
                data = buffer.getvalue()
            out.writestr(info, data)
    print(f'{target}: {len(blurred)} of {len(normals)} IM- normal films blurred (sigma {SIGMA} px)')


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
