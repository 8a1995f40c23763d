/**
 * tfjs-layers' BatchNormalization with one change: in training, on a backend that has the two
 * BatchNormalization kernels (batchNormTraining.ts), it normalises through them. Registered under
 * the same class name, so every model this app builds or loads gets it; config, weights and the
 * moving-average update are tfjs-layers' own.
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

export class BatchNormalization extends ShippedBatchNormalization {
  static className = 'BatchNormalization';

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const self = this as unknown as BatchNormFields;
    const channelsLast = self.axis === -1 || self.axis === input.rank - 1;
    if (kwargs['training'] !== true || !channelsLast || input.rank !== 4 || !self.center || !self.scale || !hasBatchNormTrainingKernels()) {
      return super.call(inputs, kwargs);
    }
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormInTraining(input, self.gamma.read(), self.beta.read(), self.epsilon);
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

/** Makes every BatchNormalization layer built by name or loaded from a file this class. Idempotent. */
export function registerBatchNormalizationLayer(): void {
  tf.serialization.registerClass(BatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}

/** A BatchNormalization layer (as tf.layers.batchNormalization). */
export function batchNormalization(args: LayerArgs): tf.layers.Layer {
  registerBatchNormalizationLayer();
  return new BatchNormalization(args);
}
