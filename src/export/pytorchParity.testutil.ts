/**
 * The page's side of the PyTorch bundle's tests: what tfjs and the page's own code compute for the same model and
 * pixels (predictions, pooled features, unlike-training scores and reasons), and the differences the tests bound.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { OodDetector, OodFeatureLayer, OodJudgement, OodPooling } from '../core/types';
import { unlikeReasonOf, type UnlikeReason } from '../eval/oodReasons';
import { judge, oodFeatureLayers } from '../eval/outOfDistribution';
import {
  featuresAndOutputs,
  layerSizeOf as pageLayerSizeOf,
  OOD_LAYERS,
  OOD_LAYERS_WITH_DETAIL,
} from '../model/features';
import { imageDetail } from '../model/imageDetail';
import { MODEL_AND_PIXELS, SIZE, type TorchPrediction, trainPy, bundlePaths } from './pytorchFixture.testutil';

/** The page's feature-ensemble layers, as train.py writes them: (name, pooling); `ood` layers. */
export const PAGE_OOD_LAYERS = OOD_LAYERS.map((l) => [l.name, l.pooling] as const);
/** The same and, last, the input's detail: what the page and train.py fit by default (`ood` detail). */
export const PAGE_DETAIL_OOD_LAYERS = OOD_LAYERS_WITH_DETAIL.map((l) => [l.name, l.pooling] as const);

/**
 * The page's side of the feature ensemble, computed here with tfjs itself (each layer's output through a sub-model
 * in inference mode, a 4-D map averaged over its rows and columns; the pseudo-layer `image`, the page's imageDetail
 * of the input): rows of `layers`' features side by side.
 */
export function tfjsOodRows(
  model: tf.LayersModel,
  pixels: number[][],
  size: number,
  layers: readonly { name: string; pooling: OodPooling }[],
): Float32Array {
  const read = layers.filter((l) => l.pooling !== 'detail-octaves');
  const sub = read.length
    ? tf.model({ inputs: model.inputs, outputs: read.map((l) => model.getLayer(l.name).output as tf.SymbolicTensor) })
    : null;
  const rows = tf.tidy(() => {
    const xs = tf.mul(tf.tensor4d(pixels.flat(), [pixels.length, size, size, 1], 'float32'), 1 / 255);
    const outputs = sub ? ([sub.predict(xs)].flat() as tf.Tensor[]) : [];
    return tf.concat(
      layers.map((layer) => {
        if (layer.pooling === 'detail-octaves') return imageDetail(xs);
        const out = outputs[read.indexOf(layer)];
        return layer.pooling === 'spatial-mean' ? tf.mean(out, [1, 2]) : out;
      }),
      1,
    );
  });
  const values = rows.dataSync() as Float32Array;
  rows.dispose();
  return values;
}

/**
 * The layers of `names` as OodFeatureLayers of this tfjs model: a 4-D map's channels, or a 2-D output's width; the
 * input's detail as wide as the page says (model/features.ts' layerSizeOf).
 */
export function tfjsOodLayers(
  model: tf.LayersModel,
  layers: readonly (readonly [string, OodPooling])[],
): OodFeatureLayer[] {
  return layers.map(([name, pooling]) => {
    if (pooling === 'detail-octaves') return { name, pooling, size: pageLayerSizeOf(model, name, pooling)! };
    const shape = model.getLayer(name).outputShape as number[];
    return { name, pooling, size: shape[shape.length - 1] };
  });
}

/**
 * What checkOodDetector needs of a model: its layers' widths after pooling, read from the tfjs model (the input's
 * detail, which no layer gives, as the page reads it).
 */
export function layerSizeOf(model: tf.LayersModel): (name: string, pooling: OodPooling) => number | null {
  return (name, pooling) => {
    if (pooling === 'detail-octaves') return pageLayerSizeOf(model, name, pooling);
    const layer = model.layers.find((l) => l.name === name);
    const shape = layer?.outputShape as number[] | undefined;
    if (!shape) return null;
    if (pooling === 'spatial-mean') return shape.length === 4 ? shape[3] : null;
    return shape.length === 2 ? shape[1] : null;
  };
}

/** Largest relative difference of the scores PyTorch gave and the page's for the same pixels, either method. */
export function distanceDifference(model: tf.LayersModel, detector: OodDetector, torch: TorchPrediction[]): number {
  const page = judge(
    detector,
    tfjsOodRows(
      model,
      torch.map((t) => t.pixels),
      SIZE,
      oodFeatureLayers(detector),
    ),
  );
  return Math.max(
    ...torch.map((t, i) => Math.abs(t.oodDistance! - page.distances[i]) / Math.max(1, page.distances[i])),
  );
}

/** train.py's OOD_LAYERS, as its Python says. */
export function torchOodLayers(): [string, OodPooling][] {
  return JSON.parse(trainPy(['print(json.dumps(ood.OOD_LAYERS))'])) as [string, OodPooling][];
}

/**
 * PyTorch's rows of `layers`' features (OOD_LAYERS unless told; pooled and side by side, `image` the input's detail)
 * for grey pixels, from a model.zip.
 */
export function torchOodRows(
  modelZip: string,
  pixels: number[][],
  layers: readonly (readonly [string, OodPooling])[] = PAGE_OOD_LAYERS,
): Float32Array {
  const inputs = join(bundlePaths().root, 'ood-rows-pixels.json');
  const layersFile = join(bundlePaths().root, 'ood-rows-layers.json');
  writeFileSync(inputs, JSON.stringify(pixels));
  writeFileSync(layersFile, JSON.stringify(layers));
  const script = [
    ...MODEL_AND_PIXELS(),
    'with torch.no_grad():',
    '    features, _ = ensemble.scorer(model)(x)',
    'print(json.dumps(ood.ood_rows(features, json.load(open(sys.argv[3]))).flatten().tolist()))',
  ];
  return Float32Array.from(JSON.parse(trainPy(script, modelZip, inputs, layersFile)) as number[]);
}

/** The page's features of `layers` for grey pixels, by model/features.ts' featuresAndOutputs (one pass, as the page). */
export function pageFeatureRows(
  model: tf.LayersModel,
  pixels: number[][],
  layers: readonly { name: string; pooling: OodPooling }[],
): Float32Array {
  const xs = tf.mul(tf.tensor4d(pixels.flat(), [pixels.length, SIZE, SIZE, 1], 'float32'), 1 / 255);
  const { features, outputs } = featuresAndOutputs(model, layers, xs);
  const values = features.dataSync() as Float32Array;
  tf.dispose([xs, features, outputs]);
  return values;
}

/** Largest |a - b| / max(1, |b|) over two equally long lists of numbers. */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return max;
}

/** The page's reason in the words of test_predictions.csv's `unlike_mostly` (report.py); empty for none. */
export function unlikeMostly(reason: UnlikeReason | null): string {
  if (!reason) return '';
  if (reason.kind === 'detail') return reason.ratio < 1 ? 'less-detail' : 'more-detail';
  return `${reason.early ? 'early' : 'later'}-layers:${reason.layer}`;
}

/**
 * Checks --predict's `unlikeWhy` against the page's reasons for the same images (`page`, its judgement): each
 * flagged image's member (and for the detail, its ratio's side and size; for a layer, its name and half) as
 * unlikeReasonOf gives it, none for an image not flagged or by the one-layer detector. How many were explained.
 */
export function expectPageReasons(torch: TorchPrediction[], page: OodJudgement, ensemble: boolean): number {
  let explained = 0;
  torch.forEach((t, i) => {
    if (!t.unlikeTrainingData || !ensemble) {
      expect(t.unlikeWhy).toBeUndefined();
      return;
    }
    const expected = unlikeReasonOf(page, i);
    expect(expected).not.toBeNull();
    expect(unlikeMostly(t.unlikeWhy!)).toBe(unlikeMostly(expected));
    expect(Math.abs(t.unlikeWhy!.share - expected!.share) / expected!.share).toBeLessThan(1e-3);
    if (t.unlikeWhy!.kind === 'detail' && expected!.kind === 'detail')
      expect(Math.abs(t.unlikeWhy!.ratio - expected!.ratio) / expected!.ratio).toBeLessThan(1e-3);
    explained++;
  });
  return explained;
}

/** tfjs' probabilities for grey pixels (0..255) of `size` px squares, as the page scales them. */
export function tfjsPredict(model: tf.LayersModel, pixels: number[][], size: number): number[][] {
  return tf.tidy(() => {
    const xs = tf.mul(tf.tensor4d(pixels.flat(), [pixels.length, size, size, 1], 'float32'), 1 / 255);
    return (model.predict(xs) as tf.Tensor).arraySync() as number[][];
  });
}

export function maxDifference(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i].length);
    row.forEach((v, j) => (max = Math.max(max, Math.abs(v - b[i][j]))));
  });
  return max;
}

/** Largest difference of tfjs' probabilities and PyTorch's, for the pixels PyTorch read. */
export function tfjsVsTorch(model: tf.LayersModel, torch: TorchPrediction[]): number {
  return maxDifference(
    tfjsPredict(
      model,
      torch.map((t) => t.pixels),
      SIZE,
    ),
    torch.map((t) => t.probabilities),
  );
}
