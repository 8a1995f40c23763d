/**
 * tfjs' RMSprop with one change: where the backend has the RMSPropUpdate kernel (the WASM backend with our
 * native kernels), each variable's step is that one kernel instead of some dozen element-wise ones (a
 * hundred and more tiny kernel calls a training step for this CNN's 16 variables; each costs more to
 * dispatch than to run at 64 px). The same float32 operations in the same order, the same state variables
 * in the same order (getWeights, checkpoints), the same class name. Elsewhere it is tfjs' own.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Inputs value, ms, mom, grad (one shape); attributes decay, momentum, learningRate, epsilon. Outputs the
 * new value, mean square and moment.
 */
export const RMSPROP_UPDATE = 'RMSPropUpdate';

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** The state tfjs' RMSPropOptimizer keeps (private there). */
interface RmspropFields {
  accumulatedMeanSquares: Slot[];
  accumulatedMoments: Slot[];
  learningRate: number;
  decay: number;
  momentum: number;
  epsilon: number;
  centered: boolean;
}

export class RMSPropOptimizer extends tf.RMSPropOptimizer {
  applyGradients(variableGradients: Parameters<tf.RMSPropOptimizer['applyGradients']>[0]): void {
    const self = this as unknown as RmspropFields;
    if (self.centered || tf.getKernel(RMSPROP_UPDATE, tf.getBackend()) === undefined) {
      super.applyGradients(variableGradients);
      return;
    }
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((item) => item.name)
      : Object.keys(variableGradients);
    const attrs = {
      decay: self.decay,
      momentum: self.momentum,
      learningRate: self.learningRate,
      epsilon: self.epsilon,
    };
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      // As tfjs: the state is made on the first step, by position.
      self.accumulatedMeanSquares[i] ??= {
        originalName: `${name}/rms`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
      self.accumulatedMoments[i] ??= {
        originalName: `${name}/momentum`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
      const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
      if (gradient == null) return;
      const meanSquare = self.accumulatedMeanSquares[i].variable;
      const moment = self.accumulatedMoments[i].variable;
      tf.tidy(() => {
        const [newValue, newMeanSquare, newMoment] = tf
          .engine()
          .runKernel(RMSPROP_UPDATE, { value, ms: meanSquare, mom: moment, grad: gradient }, attrs) as tf.Tensor[];
        meanSquare.assign(newMeanSquare);
        moment.assign(newMoment);
        value.assign(newValue);
      });
    });
    this.incrementIterations();
  }
}

/** As tf.train.rmsprop. */
export function rmsprop(
  learningRate: number,
  decay = 0.9,
  momentum = 0,
  epsilon?: number,
  centered = false,
): tf.Optimizer {
  return new RMSPropOptimizer(learningRate, decay, momentum, epsilon, centered);
}
