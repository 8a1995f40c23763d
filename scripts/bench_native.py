"""Native PyTorch side of `npm run bench:native` (scripts/bench-native.ts): trains the app's network on random data.

The same network as src/model/models.ts (`batchnorm`, the default, or `tutorial`), at the same image size and batch,
on `--threads` threads, and times `--warmup` untimed then `--steps` timed training steps (forward with Dropout on,
class-weighted binary cross-entropy clipped as tfjs-layers does, backward, RMSprop with Keras' settings), then as many
forward passes in eval mode (inference, as the app's evaluation runs). Prints one JSON object.

  /usr/bin/python3 scripts/bench_native.py --model batchnorm --size 150 --batch 32 --threads 2 --steps 8

Speed is the point, not numerics: the shapes and ops are the app's, the weights and data are random. The layout is
PyTorch's own (NCHW); only the Flatten follows Keras' NHWC order, as the app's Dense weights expect.
"""

import argparse
import json
import statistics
import time

import torch
from torch import nn

# src/model/cnn.ts CONV_FILTERS: four blocks of Conv2D 2x2 'valid' + MaxPooling 2x2.
CONV_FILTERS = (32, 32, 64, 32)
# Keras' fuzz factor (src/model/cnn.ts KERAS_EPSILON): RMSprop's epsilon and the loss's clip.
KERAS_EPSILON = 1e-7


def feature_map_size(image_size: int) -> int:
    side = image_size
    for _ in CONV_FILTERS:
        side = (side - 1) // 2
    return side


class AppCnn(nn.Module):
    """`tutorial`: Conv2D (bias) → ReLU → MaxPool; `batchnorm`: Conv2D (no bias) → BatchNorm (eps 1e-3) → ReLU → MaxPool.
    Then Flatten (NHWC order), Dense 64 ReLU, Dropout 0.5, Dense 1 sigmoid."""

    def __init__(self, model: str, image_size: int):
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for filters in CONV_FILTERS:
            if model == "tutorial":
                layers += [nn.Conv2d(channels, filters, 2), nn.ReLU(), nn.MaxPool2d(2)]
            elif model == "batchnorm":
                # The app's momentum 0.9 (tfjs: share kept) is PyTorch's 0.1 (share taken from the batch).
                layers += [nn.Conv2d(channels, filters, 2, bias=False), nn.BatchNorm2d(filters, eps=1e-3, momentum=0.1), nn.ReLU(), nn.MaxPool2d(2)]
            else:
                raise SystemExit(f"unknown model {model!r}: batchnorm or tutorial")
            channels = filters
        self.features = nn.Sequential(*layers)
        side = feature_map_size(image_size)
        if side < 1:
            raise SystemExit(f"image size {image_size} is too small for this CNN")
        self.dense_1 = nn.Linear(side * side * channels, 64)
        self.dropout = nn.Dropout(0.5)
        self.dense_2 = nn.Linear(64, 1)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)  # Keras' glorot_uniform
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        # Keras' Flatten reads NHWC (height, width, channels), as the app's Dense weights are laid out.
        x = x.permute(0, 2, 3, 1).flatten(1)
        x = self.dropout(torch.relu(self.dense_1(x)))
        return torch.sigmoid(self.dense_2(x))


def weighted_bce(probabilities: torch.Tensor, ys: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """src/model/weightedStep.ts: clip to [eps, 1 - eps], per-image cross-entropy, times the class weight, mean."""
    p = probabilities.clamp(KERAS_EPSILON, 1 - KERAS_EPSILON)
    per_image = -(ys * torch.log(p) + (1 - ys) * torch.log(1 - p)).reshape(-1)
    return (per_image * weights).mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="batchnorm", choices=["batchnorm", "tutorial"])
    parser.add_argument("--size", type=int, default=150)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = AppCnn(args.model, args.size)
    # Keras' RMSprop defaults (the app's): rho 0.9, epsilon 1e-7, no momentum, not centred. (PyTorch adds epsilon
    # after the square root, tfjs before it: the same work.)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=KERAS_EPSILON, momentum=0, centered=False)

    # The app keeps images as one byte a pixel and scales each batch by 1/255 on the backend: so does this.
    pixels = torch.randint(0, 256, (args.batch, 1, args.size, args.size), dtype=torch.uint8)
    ys = (torch.arange(args.batch) % 2).float().reshape(-1, 1)
    class_weights = torch.tensor([1.94, 0.67])  # about the chest X-ray set's (NORMAL, PNEUMONIA)
    weights = class_weights[ys.reshape(-1).long()]

    def train_step() -> None:
        model.train()
        xs = pixels.float().mul_(1 / 255)
        optimizer.zero_grad(set_to_none=True)
        probabilities = model(xs)
        loss = weighted_bce(probabilities, ys, weights)
        loss.backward()
        optimizer.step()
        accuracy = ((probabilities > 0.5).float() == ys).float().mean()
        # The app reads the loss and the accuracy back after every step.
        loss.item()
        accuracy.item()

    @torch.no_grad()
    def eval_batch() -> None:
        model.eval()
        xs = pixels.float().mul_(1 / 255)
        model(xs).numpy().copy()

    def timed(step, count: int) -> list[float]:
        times = []
        for _ in range(count):
            started = time.perf_counter()
            step()
            times.append(time.perf_counter() - started)
        return times

    timed(train_step, args.warmup)
    train_times = timed(train_step, args.steps)
    timed(eval_batch, args.warmup)
    eval_times = timed(eval_batch, args.steps)

    def figures(times: list[float]) -> dict:
        return {
            "images_per_s": args.batch * len(times) / sum(times),
            "ms_median": 1000 * statistics.median(times),
            "ms_min": 1000 * min(times),
            "ms_max": 1000 * max(times),
        }

    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "torch_path": torch.__file__,
                "threads": torch.get_num_threads(),
                "model": args.model,
                "size": args.size,
                "batch": args.batch,
                "warmup": args.warmup,
                "steps": args.steps,
                "train": figures(train_times),
                "eval": figures(eval_times),
            }
        )
    )


if __name__ == "__main__":
    main()
