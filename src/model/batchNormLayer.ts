/**
 * tfjs-layers' BatchNormalization with one change: in training, on a backend that has the two
 * BatchNormalization kernels (batchNormTraining.ts), it normalises through them. Registered under
 * the same class name, so every model this app builds or loads gets it; config, weights and the
 * moving-average update are tfjs-layers' own.
 *
 * And tfjs-layers' ReLU layer with one change: in training, where it directly follows such a layer (its only
 * consumer), the BatchNormalization kernels apply the ReLU in their own passes and the ReLU layer passes its
 * input on. Why: a separate ReLU was two more passes over each block's largest tensor a step (forward and
 * gradient), a tenth of the BatchNorm model's step at 64 px on WASM. Both layers decide from the model's
 * structure alone (fusesFollowingRelu), so they always agree. The model's layers, config and weights do not
 * change. (Applying the BatchNormalization layer alone in training would then include the ReLU: nothing here does.)
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormInTraining, hasBatchNormTrainingKernels } from './batchNormTraining';

/** What this subclass reads of tfjs-layers' BatchNormalization (its fields are not in the public types). */
interface BatchNormFields {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

type LayerArgs = Parameters<typeof tf.layers.batchNormalization>[0];
type LayerClass = new (args?: LayerArgs) => tf.layers.Layer;

// tfjs exports a factory, not the class: take the class from an instance.
const ShippedBatchNormalization = Object.getPrototypeOf(tf.layers.batchNormalization({})).constructor as LayerClass;

type ReLUArgs = Parameters<typeof tf.layers.reLU>[0];
const ShippedReLU = Object.getPrototypeOf(tf.layers.reLU({})).constructor as new (args?: ReLUArgs) => tf.layers.Layer;

/** The one layer that takes `layer`'s output, if exactly one does, through one node. */
function onlyConsumer(layer: tf.layers.Layer): tf.layers.Layer | null {
  const outbound = (layer as unknown as { outboundNodes: { outboundLayer: tf.layers.Layer }[] }).outboundNodes;
  return outbound.length === 1 ? outbound[0].outboundLayer : null;
}

/** The one layer whose output is `layer`'s input, if there is exactly one. */
function onlyProducer(layer: tf.layers.Layer): tf.layers.Layer | null {
  const inbound = (layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes;
  return inbound.length === 1 && inbound[0].inboundLayers.length === 1 ? inbound[0].inboundLayers[0] : null;
}

export class BatchNormalization extends ShippedBatchNormalization {
  static className = 'BatchNormalization';

  /** Whether a training call on an input of this rank normalises through the kernels. */
  private normalisesInKernels(rank: number, kwargs: Record<string, unknown>): boolean {
    const self = this as unknown as BatchNormFields;
    const channelsLast = self.axis === -1 || self.axis === rank - 1;
    return (
      kwargs['training'] === true &&
      channelsLast &&
      rank === 4 &&
      self.center &&
      self.scale &&
      hasBatchNormTrainingKernels()
    );
  }

  /** Whether such a call also applies the ReLU layer that alone takes this layer's output (which then passes its input on). */
  fusesFollowingRelu(rank: number, kwargs: Record<string, unknown>): boolean {
    const next = onlyConsumer(this);
    return (
      next instanceof FusableReLU &&
      next.isPlain() &&
      onlyProducer(next) === this &&
      this.normalisesInKernels(rank, kwargs)
    );
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const self = this as unknown as BatchNormFields;
    if (!this.normalisesInKernels(input.rank, kwargs)) return super.call(inputs, kwargs);
    const relu = this.fusesFollowingRelu(input.rank, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormInTraining(input, self.gamma.read(), self.beta.read(), self.epsilon, relu);
      // As tfjs-layers: moving ← moving − (moving − batch)·(1 − momentum).
      for (const [moving, value] of [
        [self.movingMean, mean],
        [self.movingVariance, variance],
      ] as const) {
        const old = moving.read();
        moving.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - self.momentum)));
      }
      tf.dispose([mean, variance]);
      return y;
    });
  }
}

export class FusableReLU extends ShippedReLU {
  static className = 'ReLU';

  /** max(0, x) alone (no maxValue): what the BatchNormalization kernels apply. */
  isPlain(): boolean {
    return (this as unknown as { maxValue?: number | null }).maxValue == null;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const producer = onlyProducer(this);
    // Already applied by the BatchNormalization layer before (see the top of this file).
    if (producer instanceof BatchNormalization && producer.fusesFollowingRelu(input.rank, kwargs)) return input;
    return super.call(inputs, kwargs);
  }
}

/** Makes every BatchNormalization and ReLU layer built by name or loaded from a file these classes. Idempotent. */
export function registerBatchNormalizationLayer(): void {
  tf.serialization.registerClass(
    BatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
  );
  tf.serialization.registerClass(
    FusableReLU as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
  );
}

/** A ReLU layer (as tf.layers.reLU). */
export function reLU(args: ReLUArgs): tf.layers.Layer {
  registerBatchNormalizationLayer();
  return new FusableReLU(args);
}

/** A BatchNormalization layer (as tf.layers.batchNormalization). */
export function batchNormalization(args: LayerArgs): tf.layers.Layer {
  registerBatchNormalizationLayer();
  return new BatchNormalization(args);
}
