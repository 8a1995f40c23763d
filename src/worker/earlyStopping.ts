/**
 * Early stopping on validation loss, with the best epoch's weights kept aside and given back at the
 * end (Keras' EarlyStopping(monitor='val_loss', patience=p, restore_best_weights=True)).
 */
import * as tf from '@tensorflow/tfjs';

export class EarlyStopping {
  private bestLoss = Infinity;
  private best = -1;
  /** Copies of the model's weights after the best epoch; owned here, freed by `dispose`. */
  private weights: tf.Tensor[] | null = null;

  /** @param patience epochs without a new lowest validation loss before stopping; 0 = never stop, keep nothing. */
  constructor(private readonly patience: number) {}

  /**
   * Continues a saved run's watch: its best epoch, loss and (with patience on) weights, which it now owns.
   */
  resume(epoch: number, valLoss: number, weights: tf.Tensor[]): void {
    this.bestLoss = valLoss;
    this.best = epoch;
    this.dispose();
    if (this.patience > 0) this.weights = weights;
    else tf.dispose(weights);
  }

  /** The epoch (0-based) with the lowest validation loss so far, -1 while there is none. */
  get bestEpoch(): number {
    return this.best;
  }

  /**
   * Records an epoch's validation loss (a NaN loss is never the best). With patience on, copies the
   * weights of a new best epoch. Returns true when training should stop now.
   */
  update(epoch: number, valLoss: number, model: tf.LayersModel): boolean {
    if (valLoss < this.bestLoss) {
      this.bestLoss = valLoss;
      this.best = epoch;
      if (this.patience > 0) this.keep(model);
      return false;
    }
    return this.patience > 0 && epoch - this.best >= this.patience;
  }

  /**
   * Gives the model the best epoch's weights, when they were kept (patience on and some epoch had a
   * finite validation loss); returns whether it did. Also right after a Stop in the middle of an
   * epoch, whose batches moved the weights past the last validated epoch.
   */
  restore(model: tf.LayersModel): boolean {
    if (!this.weights) return false;
    model.setWeights(this.weights);
    return true;
  }

  /** Frees the kept copy. Safe to call twice. */
  dispose(): void {
    if (this.weights) tf.dispose(this.weights);
    this.weights = null;
  }

  private keep(model: tf.LayersModel): void {
    // getWeights returns the live variables: clones keep this epoch's values when the optimizer moves on.
    const copy = model.getWeights().map((w) => tf.clone(w));
    this.dispose();
    this.weights = copy;
  }
}
