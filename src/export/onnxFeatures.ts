/**
 * The ONNX export's second output, `features`: what the model's out-of-distribution detector (metadata_props
 * `out_of_distribution`, docs/out-of-distribution.md) judges an image from, so that a runtime judges as the page does.
 * The penultimate detector reads one flat layer as it is. The feature ensemble reads several layers: a 4-D map
 * averaged over its rows and columns (ReduceMean over H and W of the NCHW map the graph holds, so the numbers come
 * in channel order, as tfjs' mean over axes 1 and 2 of NHWC gives them), a flat layer as it is, and the input's fine
 * detail at four scales (model/imageDetail.ts: Laplacian Conv, Abs, ReduceMean, Log, AveragePool between scales),
 * all concatenated in the detector's `layers` order.
 */
import { IMAGE_DETAIL_LAYER, type OodDetector, type OodPooling } from '../core/types';
import { DETAIL_EPSILON, DETAIL_OCTAVES, LAPLACIAN, MIN_DETAIL_SIZE } from '../core/imageDetailSpec';
import { UserError } from '../core/userError';
import { int, ints, valueInfo, type GraphBuilder, type Shape } from './onnxGraphBuilder';
import type { ValueInfo } from './onnxProto';

/** A layer the detector reads: how its output is pooled, and the width the statistics were fitted on. */
interface FeatureTap {
  name: string;
  pooling: OodPooling;
  size: number;
}

/** The layers a detector reads, in the order of its feature row (none without a detector). */
function tapsOf(detector: OodDetector | null | undefined): FeatureTap[] {
  if (!detector) return [];
  if (detector.method === 'mahalanobis-feature-ensemble')
    return detector.layers.map((l) => ({ name: l.featureLayer, pooling: l.pooling, size: l.precision.length }));
  return [{ name: detector.featureLayer, pooling: 'none', size: detector.precision.length }];
}

/** Collects, while the layers are converted, the tensors the detector reads; then adds the `features` output. */
export class FeatureOutput {
  private readonly taps: FeatureTap[];
  private readonly found = new Map<string, { tensor: string; shape: Shape }>();

  constructor(private readonly detector: OodDetector | null | undefined) {
    this.taps = tapsOf(detector);
  }

  /** After the graph's start: keeps the input (NCHW, before any layer) for the image's detail. */
  afterStart(graph: GraphBuilder): void {
    this.found.set(IMAGE_DETAIL_LAYER, { tensor: graph.current, shape: graph.shape });
  }

  /** After a layer is converted: keeps the graph's current tensor when the detector reads that layer. */
  afterLayer(graph: GraphBuilder, layerName: unknown): void {
    const tapped = this.taps.some((t) => t.name === layerName && t.pooling !== 'detail-octaves');
    if (typeof layerName === 'string' && tapped)
      this.found.set(layerName, { tensor: graph.current, shape: graph.shape });
  }

  /**
   * Adds the pooling and Concat nodes and returns the output's declaration (null without a detector). Called once
   * the graph's output is in place: `renamed` is the tensor that `finish` renamed to the output, if any.
   */
  addOutput(graph: GraphBuilder, name: string, renamed: { from: string | null; to: string }): ValueInfo | null {
    if (this.taps.length === 0) return null;
    const pooled = this.taps.map((tap) => {
      const found = this.found.get(tap.name);
      if (!found) throw new UserError(`The model has no layer ${tap.name} for its out-of-distribution statistics.`);
      const tensor = found.tensor === renamed.from ? renamed.to : found.tensor;
      const mismatch = (what: string) =>
        new UserError(`The out-of-distribution statistics read ${tap.name} ${what}; they cannot be exported.`);
      if (tap.pooling === 'detail-octaves') {
        if (tap.name !== IMAGE_DETAIL_LAYER) throw mismatch('as the image detail, which only the input gives');
        if (tap.size !== DETAIL_OCTAVES) throw mismatch(`as ${tap.size} features, but it gives ${DETAIL_OCTAVES}`);
        return detailNodes(graph, tensor, found.shape);
      }
      const width = found.shape.kind === 'image' ? found.shape.channels : found.shape.features;
      if (tap.pooling === 'spatial-mean' && found.shape.kind !== 'image')
        throw mismatch('as a 4-D map averaged over space, but it is a flat layer');
      if (tap.pooling === 'none' && found.shape.kind !== 'flat') throw mismatch('as a flat layer, but it is a 4-D map');
      if (width !== tap.size) throw mismatch(`as ${tap.size} features, but it gives ${width}`);
      if (tap.pooling === 'none') return tensor;
      // NCHW here (the graph holds images NCHW until Flatten): the mean over H and W, channels kept in order.
      graph.add('ReduceMean', `${tap.name}/spatial_mean`, [tensor], [ints('axes', [2, 3]), int('keepdims', 0)]);
      return graph.current;
    });
    if (pooled.length === 1) graph.addGraphOutput('Identity', name, pooled);
    else graph.addGraphOutput('Concat', name, pooled, [int('axis', 1)]);
    const total = this.taps.reduce((sum, t) => sum + t.size, 0);
    return valueInfo(name, [{ dimParam: 'batch' }, { dimValue: total }], this.doc());
  }

  /** What the output holds, for the graph's declaration of it. */
  private doc(): string {
    const how: Record<OodPooling, string> = {
      'spatial-mean': 'averaged over its rows and columns',
      none: 'as it is',
      'detail-octaves': 'ln(mean |Laplacian| + 1e-4) of the input at four scales, halved by 2x2 averages',
    };
    const parts = this.taps.map((t) => `${t.name} ${how[t.pooling]} (${t.size})`);
    if (this.detector?.method !== 'mahalanobis-feature-ensemble')
      return `${parts[0]}: what metadata_props out_of_distribution judges.`;
    return (
      `What metadata_props out_of_distribution (mahalanobis-feature-ensemble) judges: ${parts.join(', ')}, ` +
      'concatenated in that order. Split by these widths; the score is the sum over layers of the squared ' +
      'Mahalanobis distance to the nearest class mean divided by the layer scale; above threshold, the image is ' +
      'unlike the training data.'
    );
  }
}

/** The image's detail (model/imageDetail.ts) from the NCHW input `input`: [batch, DETAIL_OCTAVES]. */
function detailNodes(graph: GraphBuilder, input: string, shape: Shape): string {
  if (shape.kind !== 'image' || Math.min(shape.height, shape.width) < MIN_DETAIL_SIZE)
    throw new UserError(
      `The out-of-distribution statistics read the image's detail, which needs images of at least ${MIN_DETAIL_SIZE} px; they cannot be exported.`,
    );
  let x = input;
  if (shape.channels > 1) {
    graph.add('ReduceMean', 'image_detail/grey', [x], [ints('axes', [1]), int('keepdims', 1)]);
    x = graph.current;
  }
  const kernel = graph.initializer('image_detail/laplacian', [1, 1, 3, 3], Float32Array.from(LAPLACIAN));
  const epsilon = graph.initializer('image_detail/epsilon', [1], Float32Array.of(DETAIL_EPSILON));
  const octaves: string[] = [];
  for (let k = 0; k < DETAIL_OCTAVES; k++) {
    if (k > 0) {
      graph.add('AveragePool', `image_detail/half_${k}`, [x], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]);
      x = graph.current;
    }
    graph.add('Conv', `image_detail/laplacian_${k}`, [x, kernel], [ints('kernel_shape', [3, 3])]);
    graph.add('Abs', `image_detail/abs_${k}`, [graph.current]);
    graph.add('ReduceMean', `image_detail/mean_${k}`, [graph.current], [ints('axes', [2, 3]), int('keepdims', 0)]);
    graph.add('Add', `image_detail/plus_epsilon_${k}`, [graph.current, epsilon]);
    graph.add('Log', `image_detail/log_${k}`, [graph.current]);
    octaves.push(graph.current);
  }
  graph.add('Concat', 'image_detail', octaves, [int('axis', 1)]);
  return graph.current;
}
