/**
 * The PyTorch bundle with the machine's PyTorch (skipped without it; the fixture is pytorchFixture.testutil.ts).
 * `train.py` explains a flagged image as the page (oodReasons.ts) and refuses damaged detector statistics where the
 * page refuses them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import type { ModelMetadata, FeatureEnsembleOodDetector, OodFeatureLayer, OodPooling } from '../core/types';
import { IMAGE_DETAIL_LAYER } from '../core/types';
import { DETAIL_OCTAVES } from '../core/imageDetailSpec';
import { columnsOf, fitFeatureEnsembleDetector } from '../eval/featureEnsemble';
import { unlikeReasonOf, type UnlikeReason } from '../eval/oodReasons';
import { fitOodDetector, judge } from '../eval/outOfDistribution';
import { checkOodDetector } from '../eval/oodDetectorCheck';
import { disposeCnn } from '../model/cnn';
import { hasTorch, readZip, refusal, rows, trainPy, useBundle, writeZip } from './pytorchFixture.testutil';
import { appModelZip } from './pytorchAppModel.testutil';
import { layerSizeOf, relativeDifference, unlikeMostly } from './pytorchParity.testutil';

describe.skipIf(!hasTorch)('the PyTorch bundle with PyTorch: explaining and checking the detector', () => {
  const bundle = useBundle();

  it('explains a flagged image as the page (oodReasons.ts): the same parts, detail ratios and reasons, in the CSV too', () => {
    // Three layers and, last, the image's detail (logs near -4, a class 0.6 apart), as the page orders them. Rows
    // pushed off on one member each: softer and sharper detail, an early layer, and the second of three layers (later:
    // the detail is not a model layer, so it does not count in the halving), and the last.
    const random = mulberry32(41);
    const layers: OodFeatureLayer[] = [
      { name: 'max_pooling2d_1', size: 3, pooling: 'spatial-mean' },
      { name: 'max_pooling2d_3', size: 4, pooling: 'spatial-mean' },
      { name: 'dense_1', size: 5, pooling: 'none' },
      { name: IMAGE_DETAIL_LAYER, size: DETAIL_OCTAVES, pooling: 'detail-octaves' },
    ];
    const width = layers.reduce((sum, l) => sum + l.size, 0);
    const row = (label: number, member = -1, shift = 0) =>
      layers.flatMap((layer, l) =>
        Array.from({ length: layer.size }, (_, k) => {
          const mean =
            layer.pooling === 'detail-octaves' ? -3 - 0.5 * k + 0.6 * label : (k % 2 ? 0.8 : -0.8) * label + k * 0.3;
          return mean + (random() - 0.5) + (l === member ? shift : 0);
        }),
      );
    const rowsOf = (list: number[][]) => Float32Array.from(list.flat());
    const labels = Uint8Array.from({ length: 60 }, (_, i) => i % 2);
    const train = rowsOf(Array.from(labels, (label) => row(label)));
    const validation = rowsOf(Array.from({ length: 20 }, (_, i) => row(i % 2)));
    const pushed: [number, number][] = [
      [3, -1.5],
      [3, 1.5],
      [0, 3],
      [1, -3],
      [2, 3],
    ];
    const unseen = rowsOf([
      ...Array.from({ length: 10 }, (_, i) => row(i % 2)),
      ...pushed.flatMap(([member, shift]) => [row(0, member, shift), row(1, member, shift)]),
    ]);
    const n = unseen.length / width;
    const ensemble = fitFeatureEnsembleDetector({ features: train, labels }, validation, { layers, numClasses: 2 });
    // Without the detail (the `layers` choice), and the one-layer detector (`last`, dense_1): no reason at all.
    const modelWidth = width - DETAIL_OCTAVES;
    const withoutDetail = fitFeatureEnsembleDetector(
      { features: columnsOf(train, width, 0, modelWidth), labels },
      columnsOf(validation, width, 0, modelWidth),
      { layers: layers.slice(0, -1), numClasses: 2 },
    );
    const dense = (features: Float32Array) => columnsOf(features, width, 7, 5);
    const single = fitOodDetector({ features: dense(train), labels }, dense(validation), {
      featureSize: 5,
      numClasses: 2,
      featureLayer: 'dense_1',
    });
    const cases = [
      { detector: ensemble.detector, features: unseen },
      { detector: withoutDetail.detector, features: columnsOf(unseen, width, 0, modelWidth) },
      { detector: single.detector, features: dense(unseen) },
    ];
    const inputs = join(bundle.root, 'ood-reasons-inputs.json');
    writeFileSync(
      inputs,
      JSON.stringify(
        cases.map((c) => ({ detector: c.detector, features: Array.from(c.features), width: c.features.length / n })),
      ),
    );
    const script = [
      'from xray_trainer import report',
      'out = []',
      'for i, c in enumerate(json.load(open(sys.argv[1]))):',
      "    detector = c['detector']",
      "    x = np.array(c['features'], dtype=np.float32).astype(np.float64).reshape(-1, c['width'])",
      '    scores, reasons, ratio = ood.ood_reasons(detector, x)',
      "    ensemble = detector['method'] == ood.OOD_ENSEMBLE_METHOD",
      '    parts = ood.ood_parts(detector, x)[1] if ensemble else np.ones((len(scores), 1))',
      // Every row's reason, flagged or not: more rows to compare.
      '    every = [ood.ood_reason(detector, p, None if ratio is None else ratio[k]) for k, p in enumerate(parts)]',
      "    path = sys.argv[2] + f'-{i}.csv'",
      "    rows = [{'path': f'{k}.png', 'class': 'NORMAL', 'group': None} for k in range(len(scores))]",
      "    report.write_predictions(path, rows, np.zeros((len(scores), 1)), ['NORMAL', 'PNEUMONIA'], scores,",
      "                             detector['threshold'], reasons, ratio)",
      "    out.append({'scores': scores.tolist(), 'parts': parts.tolist() if ensemble else None, 'reasons': reasons,",
      "                'every': every, 'ratio': None if ratio is None else ratio.tolist(), 'csv': open(path).read()})",
      'print(json.dumps(out))',
    ];
    const torch = JSON.parse(trainPy(script, inputs, join(bundle.root, 'ood-reasons'))) as {
      scores: number[];
      parts: number[][] | null;
      reasons: (UnlikeReason | null)[] | null;
      every: (UnlikeReason | null)[];
      ratio: number[] | null;
      csv: string;
    }[];
    const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    const words = unlikeMostly;
    const seen = new Set<string>();
    cases.forEach(({ detector, features }, c) => {
      const page = judge(detector, features);
      const { scores, parts, reasons, every, ratio, csv } = torch[c];
      const lines = csv.trim().split('\n');
      expect(lines).toHaveLength(n + 1);
      expect(relativeDifference(scores, page.distances)).toBeLessThan(1e-6);
      const flagged = Array.from(page.distances, (d) => d > detector.threshold);
      expect(scores.map((s) => s > detector.threshold)).toEqual(flagged);
      // At least the rows pushed on a member this detector reads (the one-layer detector: dense_1 only).
      expect(flagged.filter(Boolean).length).toBeGreaterThanOrEqual([10, 6, 2][c]);
      if (detector.method !== 'mahalanobis-feature-ensemble') {
        // The one-layer detector: a score, no parts, so no reason, in Python as on the page.
        expect(reasons).toBeNull();
        expect(ratio).toBeNull();
        expect(every.every((r) => r === null)).toBe(true);
        expect(flagged.every((_, i) => unlikeReasonOf(page, i) === null)).toBe(true);
        expect(lines[0]).toBe('path,class,group,p_PNEUMONIA,ood_distance,unlike_training_data');
        return;
      }
      const detail = detector.layers.some((l) => l.pooling === 'detail-octaves');
      expect(lines[0]).toBe(
        `path,class,group,p_PNEUMONIA,ood_distance,unlike_training_data,unlike_mostly${detail ? ',detail_ratio' : ''}`,
      );
      // The parts, member by member (each the member's distance over its scale).
      expect(parts).toHaveLength(n);
      parts!.forEach((row, i) => {
        expect(row).toHaveLength(detector.layers.length);
        row.forEach((part, l) =>
          expect(relative(part, page.parts![i * detector.layers.length + l])).toBeLessThan(1e-4),
        );
      });
      if (detail) {
        expect(ratio).toHaveLength(n);
        ratio!.forEach((r, i) => expect(relative(r, page.detailRatio![i])).toBeLessThan(1e-4));
      } else {
        expect(ratio).toBeNull();
        expect(page.detailRatio).toBeUndefined();
      }
      every.forEach((reason, i) => {
        const expected = unlikeReasonOf(page, i);
        expect(expected).not.toBeNull();
        expect(reason?.kind).toBe(expected!.kind);
        expect(relative(reason!.share, expected!.share)).toBeLessThan(1e-4);
        if (reason!.kind === 'detail' && expected!.kind === 'detail')
          expect(relative(reason!.ratio, expected!.ratio)).toBeLessThan(1e-4);
        else
          expect(reason).toMatchObject({
            layer: (expected as { layer: string }).layer,
            early: (expected as { early: boolean }).early,
          });
        // Only a flagged image is explained (--predict's unlikeWhy, the CSV's unlike_mostly).
        expect(reasons![i]).toEqual(flagged[i] ? reason : null);
        const fields = lines[i + 1].split(',');
        expect(fields[5]).toBe(flagged[i] ? 'yes' : 'no');
        expect(fields[6]).toBe(flagged[i] ? words(expected) : '');
        if (detail) {
          expect(relative(Number(fields[7]), page.detailRatio![i])).toBeLessThan(6e-4);
          expect(Number(Number(fields[7]).toPrecision(4))).toBe(Number(fields[7]));
        }
        if (flagged[i]) seen.add(`${c} ${words(expected)}`);
      });
      // Each pushed row is explained by the member it was pushed on.
      pushed.forEach(([member, shift], k) => {
        if (!detail && member === 3) return;
        const expected =
          member === 3
            ? shift < 0
              ? 'less-detail'
              : 'more-detail'
            : `${member === 0 ? 'early' : 'later'}-layers:${layers[member].name}`;
        for (const i of [10 + 2 * k, 11 + 2 * k]) {
          expect(flagged[i]).toBe(true);
          expect(words(reasons![i])).toBe(expected);
        }
      });
    });
    // Every kind of reason came up: softer and sharper detail, an early layer, and later ones.
    expect([...seen].sort()).toEqual(
      expect.arrayContaining([
        '0 less-detail',
        '0 more-detail',
        '0 early-layers:max_pooling2d_1',
        '0 later-layers:max_pooling2d_3',
        '0 later-layers:dense_1',
        '1 early-layers:max_pooling2d_1',
        '1 later-layers:max_pooling2d_3',
      ]),
    );
  });

  it('refuses damaged feature-ensemble statistics in words, where the page refuses them', async () => {
    const zip = join(bundle.root, 'app-damaged-ood.zip');
    const model = await appModelZip('tutorial', 2, zip);
    const files = await readZip(zip);
    const metadata = JSON.parse(new TextDecoder().decode(files.get('metadata.json'))) as ModelMetadata;
    const good = metadata.outOfDistribution as FeatureEnsembleOodDetector;
    const damaged = (change: (d: FeatureEnsembleOodDetector) => void) => {
      const copy = structuredClone(good);
      change(copy);
      return copy;
    };
    const cases: [FeatureEnsembleOodDetector, string][] = [
      [damaged((d) => (d.layers[1].scale = 0)), 'layer 2: scale is not positive'],
      [damaged((d) => (d.layers[0].featureLayer = 'conv2d_9')), 'layer 1: the model has no layer conv2d_9'],
      [damaged((d) => (d.layers[0].pooling = 'none')), 'layer 1: the model has no flat layer max_pooling2d_1'],
      [damaged((d) => (d.layers[0].featureLayer = '<img src=x>')), 'layer 1: featureLayer is not a layer name'],
      [damaged((d) => (d.layers[0].precision = d.layers[4].precision)), 'layer 1: precision is not 32 x 32'],
      [damaged((d) => (d.layers[2].precision[0][1] += 1)), 'layer 3: precision is not symmetric'],
      [damaged((d) => (d.layers[0].classMeans[0] = d.layers[0].classMeans[0].slice(1))), 'layer 1: classMeans'],
      [damaged((d) => d.layers.push(d.layers[0])), 'a layer is named twice'],
      [damaged((d) => (d.layers = Array.from({ length: 17 }, () => d.layers[0]))), 'not a list of 1 to 16 layers'],
      [damaged((d) => (d.layers = [])), 'not a list of 1 to 16 layers'],
      [damaged((d) => (d.layers[3].shrinkage = 2)), 'layer 4: shrinkage is not between 0 and 1'],
      // The input's detail: read as detail-octaves only, from `image` only, 4 numbers wide.
      [damaged((d) => (d.layers[5].pooling = 'spatial-mean')), 'layer 6: the model has no layer image'],
      [damaged((d) => (d.layers[4].pooling = 'detail-octaves')), 'layer 5: the model has no layer dense_1'],
      [damaged((d) => (d.layers[5].featureLayer = 'input_1')), 'layer 6: the model has no layer input_1'],
      [damaged((d) => (d.layers[5].pooling = 'octaves' as OodPooling)), 'layer 6: pooling is not known'],
      [
        damaged((d) => (d.layers[5].precision = d.layers[5].precision.slice(1).map((row) => row.slice(1)))),
        'layer 6: precision is not 4 x 4',
      ],
      [damaged((d) => (d.method = 'energy' as FeatureEnsembleOodDetector['method'])), "unknown method 'energy'"],
    ];
    const inputs = join(bundle.root, 'damaged-ood.json');
    writeFileSync(inputs, JSON.stringify([good, ...cases.map(([d]) => d)]));
    const script = [
      'model, _ = model_zip.load_app_model(sys.argv[1])',
      'out = []',
      'for d in json.load(open(sys.argv[2])):',
      '    try:',
      "        out.append({'method': ood_check.check_ood_detector(d, model)['method']})",
      '    except SystemExit as e:',
      "        out.append({'refused': str(e)})",
      'print(json.dumps(out))',
    ];
    const [accepted, ...refused] = JSON.parse(trainPy(script, zip, inputs)) as {
      method?: string;
      refused?: string;
    }[];
    expect(accepted).toEqual({ method: 'mahalanobis-feature-ensemble' });
    const expected = { layerSize: layerSizeOf(model), numClasses: 2 };
    cases.forEach(([detector, words], i) => {
      expect(refused[i].refused).toContain(
        "The model's out-of-distribution statistics (outOfDistribution) are damaged",
      );
      expect(refused[i].refused).toContain(words);
      expect(() => checkOodDetector(detector, expected)).toThrow(/are damaged/);
    });
    // And --predict says so, rather than judging with them.
    await writeZip(zip, {
      'model.json': files.get('model.json')!,
      'weights.bin': files.get('weights.bin')!,
      'metadata.json': JSON.stringify({ ...metadata, outOfDistribution: cases[0][0] }),
    });
    expect(refusal(['--predict', zip, '--images', join(bundle.dataDir, rows[0].path)])).toContain(
      'scale is not positive',
    );
    disposeCnn(model);
  }, 60_000);
});
