/**
 * The ONNX export's second output, `features`: what the model's out-of-distribution detector (metadata_props
 * `out_of_distribution`, docs/out-of-distribution.md) judges an image from, so that a runtime judges as the page does.
 * The penultimate detector reads one flat layer as it is. The feature ensemble reads several layers: a 4-D map
 * averaged over its rows and columns (ReduceMean over H and W of the NCHW map the graph holds, so the numbers come
 * in channel order, as tfjs' mean over axes 1 and 2 of NHWC gives them), a flat layer as it is, all concatenated in
 * the detector's `layers` order.
 */
import type { OodDetector, OodPooling } from '../core/types';
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

  /** After a layer is converted: keeps the graph's current tensor when the detector reads that layer. */
  afterLayer(graph: GraphBuilder, layerName: unknown): void {
    if (typeof layerName === 'string' && this.taps.some((t) => t.name === layerName))
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
      const width = found.shape.kind === 'image' ? found.shape.channels : found.shape.features;
      const mismatch = (what: string) =>
        new UserError(`The out-of-distribution statistics read ${tap.name} ${what}; they cannot be exported.`);
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
    const parts = this.taps.map(
      (t) =>
        `${t.name} ${t.pooling === 'spatial-mean' ? 'averaged over its rows and columns' : 'as it is'} (${t.size})`,
    );
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
