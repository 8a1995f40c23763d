/**
 * The PyTorch bundle with the machine's PyTorch (skipped without it; the fixture is pytorchFixture.testutil.ts).
 * Stacking K members into one model as the page builds it (model/ensemble.ts): the mean of their probabilities, the
 * layout of the wide layers in the page's terms, the round trip to members and back, and scoring member by member.
 */
import { describe, expect, it } from 'vitest';
import { hasTorch, trainPy, useBundle } from './pytorchFixture.testutil';
import { maxDifference } from './pytorchParity.testutil';

describe.skipIf(!hasTorch)('the PyTorch bundle with PyTorch: stacking ensemble members', () => {
  useBundle();

  it('stacks K members into one model whose probabilities are the mean of theirs, block by block', () => {
    const script = [
      'torch.manual_seed(4)',
      // 64 px: a 3 x 3 map before Flatten, so that dense_1's row order matters (at 40 px it is 1 x 1).
      'x = torch.rand(7, 1, 64, 64)',
      'out = []',
      "for name, norm, k in (('tutorial', 'none', 2), ('batchnorm', 'none', 3), ('batchnorm', 'per-image', 2)):",
      '    members = []',
      '    for _ in range(k):',
      '        m = network.AppCnn(name, 64, 2, norm)',
      '        with torch.no_grad():',
      '            for key, v in m.state_dict().items():',
      "                if key.endswith('bias') or key.endswith('running_mean'): v.uniform_(-0.3, 0.3)",
      "                if key.endswith('running_var'): v.uniform_(0.3, 1.8)",
      "                if key.startswith('batch_normalization') and key.endswith('weight'): v.uniform_(0.5, 1.5)",
      '        members.append(m.eval())',
      '    stacked = ensemble.stack_members(members)',
      '    with torch.no_grad():',
      '        own = torch.cat([m(x) for m in members], dim=1)',
      '        pooled, p = stacked.features_and_probabilities(x)',
      "        features = pooled['dense_1']",
      '        each = stacked.member_probabilities(features)',
      '    again = ensemble.stack_members(ensemble.member_models(stacked)).state_dict()',
      '    round_trip = all(torch.equal(v, again[key]) for key, v in stacked.state_dict().items())',
      // The spec's layout in the page's terms: dense_1/kernel row ((p K + k) C + c), column k 64 + u is member k's
      // row p C + c, column u (p = i w + j); conv2d_2/kernel block-diagonal; zero elsewhere.
      "    big = tfjs_format.to_tfjs('dense_1/kernel', stacked.dense_1.weight)",
      '    spec = big * 0',
      '    for i, m in enumerate(members):',
      "        single = tfjs_format.to_tfjs('dense_1/kernel', m.dense_1.weight).reshape(-1, 32, 64)",
      '        spec.reshape(-1, k, 32, k, 64)[:, i, :, i, :] = single',
      "    conv = tfjs_format.to_tfjs('conv2d_2/kernel', stacked.conv2d_2.weight)",
      '    conv_spec = conv * 0',
      '    for i, m in enumerate(members):',
      "        block = tfjs_format.to_tfjs('conv2d_2/kernel', m.conv2d_2.weight)",
      '        conv_spec[:, :, i * 32:(i + 1) * 32, i * 32:(i + 1) * 32] = block',
      '    layout = bool((big == spec).all() and (conv == conv_spec).all())',
      // Scoring member by member (what evaluation and --predict do) gives the wide model's numbers; with a weight
      // off the blocks (not this format) it falls back to the wide layers.
      '    fast = ensemble.scorer(stacked)',
      '    with torch.no_grad():',
      '        fast_features, fast_p = fast(x)',
      '        stacked.conv2d_2.weight[0, -1] += 0.1',
      "    members_way = fast.__name__ == 'members_features_and_probabilities'",
      "    wide_way = ensemble.scorer(stacked).__name__ == 'features_and_probabilities'",
      // Every layer the detectors read, member by member as wide: the members' channels side by side (the input's
      // detail once).
      '    same = bool(all(torch.allclose(fast_features[n], pooled[n], atol=1e-6) for n in pooled)',
      '                and torch.allclose(fast_p, p, atol=1e-6))',
      '    widths = [f.shape[1] for f in pooled.values()]',
      '    scored = members_way and wide_way and same',
      '    out.append({"k": k, "mean": own.mean(dim=1).tolist(), "stacked": p[:, 0].tolist(),',
      '                "members": own.tolist(), "each": each.tolist(), "features": features.shape[1],',
      '                "layout": layout, "roundTrip": round_trip, "scored": scored, "widths": widths})',
      'print(json.dumps(out))',
    ];
    const cases = JSON.parse(trainPy(script)) as {
      k: number;
      mean: number[];
      stacked: number[];
      members: number[][];
      each: number[][];
      features: number;
      roundTrip: boolean;
      layout: boolean;
      scored: boolean;
      widths: number[];
    }[];
    for (const c of cases) {
      // The input's detail last, as wide for any K: the one input's.
      expect(c.widths).toEqual([...[32, 32, 64, 32, 64].map((w) => w * c.k), 4]);
      expect(maxDifference([c.stacked], [c.mean])).toBeLessThan(1e-5);
      expect(maxDifference(c.each, c.members)).toBeLessThan(1e-5);
      expect(c.features).toBe(64 * c.k);
      // Members unstacked and stacked again give the same weights: nothing lies off the blocks.
      expect(c.roundTrip).toBe(true);
      expect(c.layout).toBe(true);
      expect(c.scored).toBe(true);
      // The members disagree, so the mean is not any one of them.
      const spread = Math.max(...c.members.map((row) => Math.max(...row) - Math.min(...row)));
      expect(spread).toBeGreaterThan(1e-3);
    }
  }, 60_000);
});
