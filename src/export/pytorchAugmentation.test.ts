/**
 * The PyTorch bundle with the machine's PyTorch (skipped without it; the fixture is pytorchFixture.testutil.ts).
 * `train.py` augments, crops, changes contrast, gamma and blur, smooths labels, mixes images, decays kernels and
 * schedules the learning rate as the page does, draw for draw.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { framingParams } from '../core/framing';
import { DEFAULT_SETTINGS } from '../core/settings';
import type { AugmentationSettings } from '../core/types';
import { learningRateAt } from '../model/learningRate';
import { hasTorch, TOLERANCE, trainPy, useBundle } from './pytorchFixture.testutil';
import { maxDifference } from './pytorchParity.testutil';

describe.skipIf(!hasTorch)('the PyTorch bundle with PyTorch: augmentation, recipe and schedule', () => {
  useBundle();

  it('augments as the page: the same maps, sampled as tf.image.transform samples them', () => {
    const aug: AugmentationSettings = {
      ...DEFAULT_SETTINGS.augmentation,
      rotation: 30,
      zoom: 0.3,
      shift: 0.2,
      shear: 20,
      brightness: 0.3,
      horizontalFlip: true,
    };
    const script = [
      'torch.manual_seed(0)',
      'aug = json.loads(sys.argv[1])',
      'x = torch.nn.functional.avg_pool2d(torch.rand(5, 1, 44, 44), 5, 1)',
      'u = torch.rand(5, 8)',
      'u[0] = 0.5',
      'out = augmentation.augment_batch(x, aug, u)',
      'm = augmentation.affine_matrices(u, aug, 40, 40)',
      'print(json.dumps({"x": x.flatten().tolist(), "u": u.tolist(), "out": out.flatten().tolist(), "m": m.tolist()}))',
    ];
    const result = JSON.parse(trainPy(script, JSON.stringify(aug))) as {
      x: number[];
      u: number[][];
      out: number[];
      m: number[][];
    };
    // All draws at the middle of their range: no change at all (u = 0.5 is not a flip).
    result.m[0].forEach((v, j) => expect(v).toBeCloseTo([1, 0, 0, 0, 1, 0][j], 12));
    const fromTfjs = tf.tidy(() => {
      const xs = tf.tensor4d(result.x, [5, 40, 40, 1]);
      const moved = tf.image.transform(xs, tf.tensor2d(result.m.map((row) => [...row, 0, 0])), 'bilinear', 'nearest');
      const factors = tf.tensor4d(
        result.u.map((row) => 1 + (row[7] * 2 - 1) * aug.brightness),
        [5, 1, 1, 1],
      );
      return Array.from(tf.clipByValue(tf.mul(moved, factors), 0, 1).dataSync());
    });
    expect(maxDifference([fromTfjs], [result.out])).toBeLessThan(TOLERANCE);
    expect(maxDifference([result.out.slice(0, 1600)], [result.x.slice(0, 1600)])).toBeLessThan(1e-6);
  }, 60_000);

  it('crops as the page: the framing window (core/framing.ts) folded into the same map, draw for draw', () => {
    const aug: AugmentationSettings = { ...DEFAULT_SETTINGS.augmentation, rotation: 20, shift: 0.1, crop: 0.4 };
    const script = [
      'torch.manual_seed(3)',
      'aug = json.loads(sys.argv[1])',
      'u = torch.rand(6, 8)',
      'f = torch.rand(6, 4)',
      'f[:, 0] = torch.tensor([0.1, 0.9, 0.3, 0.7, 0.49, 0.5])',
      'plain = augmentation.affine_matrices(u, aug, 30, 20)',
      'cropped = augmentation.affine_matrices(u, aug, 30, 20, f)',
      'print(json.dumps({"f": f.tolist(), "plain": plain.tolist(), "cropped": cropped.tolist()}))',
    ];
    const result = JSON.parse(trainPy(script, JSON.stringify(aug))) as {
      f: number[][];
      plain: number[][];
      cropped: number[][];
    };
    result.f.forEach((draws, i) => {
      let k = 0;
      const window = framingParams(aug, 30, 20, () => draws[k++]);
      expect(window.scale < 1).toBe(draws[0] < 0.5);
      const [a0, a1, a2, b0, b1, b2] = result.plain[i];
      // The window after Keras' map: s (q - c) + c + o, c the centre (14.5, 9.5).
      const expected = [
        window.scale * a0,
        window.scale * a1,
        window.scale * (a2 - 14.5) + 14.5 + window.offsetX,
        window.scale * b0,
        window.scale * b1,
        window.scale * (b2 - 9.5) + 9.5 + window.offsetY,
      ];
      result.cropped[i].forEach((v, j) => expect(v).toBeCloseTo(expected[j], 9));
    });
  }, 60_000);

  it('changes contrast, gamma and blur as the page (augment.ts), draw for draw', () => {
    const aug = { contrast: 0.4, gamma: 0.5, blur: 1.2, noise: 0 };
    const script = [
      'torch.manual_seed(1)',
      'x = torch.rand(3, 1, 9, 9)',
      'u = torch.rand(3, 5)',
      'out = augmentation.acquisition_batch(x, json.loads(sys.argv[1]), u)',
      'print(json.dumps({"x": x.flatten().tolist(), "u": u.tolist(), "out": out.flatten().tolist()}))',
    ];
    const result = JSON.parse(trainPy(script, JSON.stringify(aug))) as {
      x: number[];
      u: number[][];
      out: number[];
    };
    // The page's arithmetic written out plainly, image by image: blur (mirrored edges), contrast, gamma, clip.
    const size = 9;
    const radius = Math.ceil(3 * aug.blur);
    const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * aug.blur ** 2)));
    const total = taps.reduce((a, b) => a + b, 0);
    const mirror = (i: number) => (i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i);
    const expected = result.u.flatMap((u, n) => {
      const image = result.x.slice(n * size * size, (n + 1) * size * size);
      const along = (img: number[], dx: number, dy: number) =>
        img.map((_, p) => {
          const [x, y] = [p % size, Math.floor(p / size)];
          return taps.reduce(
            (sum, t, k) =>
              sum + (t / total) * img[mirror(y + dy * (k - radius)) * size + mirror(x + dx * (k - radius))],
            0,
          );
        });
      const blurred = along(along(image, 0, 1), 1, 0);
      const mixed = image.map((v, p) => v + (blurred[p] - v) * u[2]);
      const mean = mixed.reduce((a, b) => a + b, 0) / mixed.length;
      const factor = 1 + (u[0] * 2 - 1) * aug.contrast;
      const power = (1 + aug.gamma) ** (u[1] * 2 - 1);
      return mixed.map((v) => Math.min(1, Math.max(0, Math.min(1, Math.max(0, (v - mean) * factor + mean)) ** power)));
    });
    expect(maxDifference([expected], [result.out])).toBeLessThan(TOLERANCE);
  }, 60_000);

  it('smooths labels, mixes images and decays kernels as the page (recipe.ts)', () => {
    const script = [
      'g = torch.Generator().manual_seed(3)',
      'x = torch.rand(4, 1, 5, 5)',
      'labels = torch.tensor([0, 1, 1, 0])',
      'w = torch.tensor([1.0, 3.0])',
      'sx, st, sw = loss.regularised_batch(x, labels, 2, w, {"labelSmoothing": 0.1}, g)',
      'mx, mt, mw = loss.regularised_batch(x, labels, 2, w, {"mixup": 0.4}, g)',
      'p = torch.rand(4, 1)',
      'hard = loss.soft_cross_entropy(p, labels.float()) - loss.per_image_cross_entropy(p, labels, 2)',
      'beta = loss.beta_draws(4000, 1.0, g)',
      'm = torch.nn.Linear(3, 2)',
      'before = m.weight.detach().clone()',
      'optimizer.decay_kernels(m, 0.01, 5)',
      'print(json.dumps({"st": st.tolist(), "sw": sw.tolist(), "same": bool(torch.equal(sx, x)),',
      '  "x": x.flatten(1).tolist(), "mx": mx.flatten(1).tolist(), "mt": mt.tolist(), "mw": mw.tolist(),',
      '  "hard": hard.abs().max().item(), "beta": [beta.min().item(), beta.max().item(), beta.mean().item()],',
      '  "ratio": (m.weight / before).flatten().tolist()}))',
    ];
    const r = JSON.parse(trainPy(script)) as {
      st: number[];
      sw: number[];
      same: boolean;
      x: number[][];
      mx: number[][];
      mt: number[];
      mw: number[];
      hard: number;
      beta: number[];
      ratio: number[];
    };
    expect(r.st.map((v) => Number(v.toFixed(6)))).toEqual([0.05, 0.95, 0.95, 0.05]);
    expect(r.sw).toEqual([1, 3, 3, 1]);
    expect(r.same).toBe(true);
    // Mixup: each image leads its blend with its partner (n-1-i); targets and weights blend at the same share.
    const label = [0, 1, 1, 0];
    const weight = [1, 3, 3, 1];
    r.mx.forEach((row, i) => {
      const j = 3 - i;
      const share = (row[0] - r.x[j][0]) / (r.x[i][0] - r.x[j][0]);
      expect(share).toBeGreaterThanOrEqual(0.5 - 1e-4);
      expect(share).toBeLessThanOrEqual(1 + 1e-4);
      row.forEach((v, k) => expect(v).toBeCloseTo(share * r.x[i][k] + (1 - share) * r.x[j][k], 4));
      expect(r.mt[i]).toBeCloseTo(share * label[i] + (1 - share) * label[j], 4);
      expect(r.mw[i]).toBeCloseTo(share * weight[i] + (1 - share) * weight[j], 4);
    });
    expect(r.hard).toBeLessThan(1e-6);
    expect(r.beta[0]).toBeGreaterThanOrEqual(0);
    expect(r.beta[1]).toBeLessThanOrEqual(1);
    expect(r.beta[2]).toBeCloseTo(0.5, 1);
    r.ratio.forEach((v) => expect(v).toBeCloseTo(0.95, 5));
  }, 60_000);

  it("restarts a cosine each snapshot cycle: the page's learningRateAt over each cycle's own steps", () => {
    // 7 epochs of 3 steps in 3 cycles: epochs [0, 2), [2, 4), [4, 7); schedule constant (cycles are cosine anyway).
    const script = [
      "s = {'learningRate': 0.01, 'learningRateSchedule': 'constant', 'epochs': 7}",
      'cycles = schedule.snapshot_cycles(7, 3)',
      'rates = [schedule.rate_of_step(s, cycles, e, 3)(e * 3 + i) for e in range(7) for i in range(3)]',
      'print(json.dumps({"cycles": cycles, "rates": rates}))',
    ];
    const { cycles, rates } = JSON.parse(trainPy(script)) as {
      cycles: number[][];
      rates: number[];
    };
    expect(cycles).toEqual([
      [0, 2],
      [2, 4],
      [4, 7],
    ]);
    const expected = cycles.flatMap(([start, end]) =>
      Array.from({ length: (end - start) * 3 }, (_, step) => learningRateAt('cosine', 0.01, step, (end - start) * 3)),
    );
    expect(maxDifference([rates], [expected])).toBeLessThan(1e-15);
  }, 60_000);

  it('schedules the learning rate as the page: constant, or cosine over the run', () => {
    const script = [
      'print(json.dumps([[schedule.learning_rate_at(s, 0.01, step, 12) for step in range(14)] for s in ("constant", "cosine")]))',
    ];
    const [constant, cosine] = JSON.parse(trainPy(script)) as number[][];
    constant.forEach((rate, step) => expect(rate).toBe(learningRateAt('constant', 0.01, step, 12)));
    cosine.forEach((rate, step) => expect(rate).toBeCloseTo(learningRateAt('cosine', 0.01, step, 12), 15));
  }, 60_000);
});
