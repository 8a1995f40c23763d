"""--predict: the probabilities of single image files under a model.zip, as JSON on standard output (each member's
too for an ensemble; whether each image is unlike the training data when the model carries a detector)."""

import json
import sys

import torch

from .ensemble import scorer
from .images import load_grey
from .model_zip import load_app_model
from .ood import ood_layers, ood_reasons, ood_rows
from .ood_check import check_ood_detector


def predict(args):
    """Prints {"classNames", "imageSize", "images": [{"path", "probabilities"[, "memberProbabilities"][, "oodDistance",
    "unlikeTrainingData"[, "unlikeWhy"]][, "pixels"]}]} as JSON; the out-of-distribution fields when the model's
    metadata.json carries the statistics, each member's P(class 1) when the model is a snapshot ensemble.
    "unlikeWhy", for an image flagged by a feature ensemble only, is why, as the page says it (ood_reason,
    src/eval/oodReasons.ts): {"kind": "detail", "ratio", "share"} (the image's fine detail over the training films':
    below 1 less, else more) or {"kind": "layer", "layer", "early", "share"} (a layer of the network, in the first
    half of those the detector reads or not); "share" is that member's part of the score."""
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
                scores, reasons, _ = ood_reasons(detector, ood_rows(features, ood_layers(detector)).double().numpy())
                distance = float(scores[0])
                item.update({'oodDistance': distance, 'unlikeTrainingData': distance > detector['threshold']})
                if reasons and reasons[0] is not None:
                    item['unlikeWhy'] = reasons[0]
            if args.with_pixels:
                item['pixels'] = pixels.reshape(-1).tolist()
            out.append(item)
    json.dump({'classNames': metadata.get('classNames'), 'imageSize': model.image_size, 'images': out}, sys.stdout)
    sys.stdout.write('\n')
