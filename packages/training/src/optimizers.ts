import * as tf from '@tensorflow/tfjs-core';

/**
 * Keras 3's SGD and Adam, update for update (keras/src/optimizers/sgd.py, adam.py), on
 * tfjs-core. tfjs-core's own optimizers differ from Keras' (tf.train.momentum keeps
 * `m = momentum*m + g` and subtracts `lr*m`; tf.train.adam folds epsilon differently), and
 * the oracle test holds us to Keras' weights within 1e-5, so these few lines are our own.
 *
 * `weightDecay` is Keras 3's decoupled weight decay (the optimizers' `weight_decay` argument,
 * AdamW's): before each update, `w -= w * weightDecay * learningRate`. The L2 penalty added to
 * the loss (Keras' `kernel_regularizer=l2(...)`) belongs to the model, not to the optimizer.
 */
export type OptimizerOptions =
  | { kind: 'sgd'; learningRate?: number; momentum?: number; nesterov?: boolean; weightDecay?: number }
  | { kind: 'adam'; learningRate?: number; beta1?: number; beta2?: number; epsilon?: number; weightDecay?: number };

export interface Optimizer {
  readonly options: Readonly<Required<OptimizerOptions>>;
  /** Updates done so far (Keras' `optimizer.iterations`). */
  readonly iterations: number;
  /** One update of each variable by its gradient (same order). */
  apply(variables: readonly tf.Variable[], gradients: readonly tf.Tensor[]): void;
  /** The slots (momentums, or Adam's m and v) and the iteration count, for a checkpoint. */
  state(): OptimizerState;
  /** Restores what state() gave (for the same variables, in the same order). */
  restore(state: OptimizerState): void;
  dispose(): void;
}

export interface OptimizerState {
  readonly iterations: number;
  /** Per variable: [momentum] for SGD, [m, v] for Adam; empty before the first update. */
  readonly slots: readonly (readonly Float32Array[])[];
}

/** Keras 3's defaults: SGD(learning_rate=0.01, momentum=0), Adam(0.001, 0.9, 0.999, 1e-7). */
export function resolveOptimizerOptions(options: OptimizerOptions): Required<OptimizerOptions> {
  if (options.kind === 'sgd') {
    return { kind: 'sgd', learningRate: options.learningRate ?? 0.01, momentum: options.momentum ?? 0, nesterov: options.nesterov ?? false, weightDecay: options.weightDecay ?? 0 };
  }
  return { kind: 'adam', learningRate: options.learningRate ?? 0.001, beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, epsilon: options.epsilon ?? 1e-7, weightDecay: options.weightDecay ?? 0 };
}

export function createOptimizer(options: OptimizerOptions): Optimizer {
  const resolved = resolveOptimizerOptions(options);
  for (const [key, value] of Object.entries(resolved)) {
    if (typeof value === 'number' && !(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`optimizer option ${key} is ${value}; it must be a finite number >= 0.`);
    }
  }
  let iterations = 0;
  let slots: tf.Variable[][] = [];
  // Restored slots wait for the first update, which brings the variables (and so their shapes).
  let restored: OptimizerState['slots'] | null = null;

  const ensureSlots = (variables: readonly tf.Variable[]): void => {
    if (slots.length > 0) return;
    const count = resolved.kind === 'adam' ? 2 : resolved.momentum !== 0 ? 1 : 0;
    slots = variables.map((v, i) => Array.from({ length: count }, (_, j) => {
      const values = restored?.[i]?.[j];
      return tf.tidy(() => tf.variable(values ? tf.tensor(values, v.shape, 'float32') : tf.zerosLike(v), false));
    }));
    restored = null;
  };

  return {
    options: resolved,
    get iterations() { return iterations; },
    apply(variables, gradients) {
      if (variables.length !== gradients.length) throw new Error(`optimizer: ${variables.length} variables but ${gradients.length} gradients`);
      ensureSlots(variables);
      const lr = resolved.learningRate;
      tf.tidy(() => {
        // Adam's step size, as Keras computes it once per update from the step count.
        const step = iterations + 1;
        const alpha = resolved.kind === 'adam'
          ? lr * Math.sqrt(1 - resolved.beta2 ** step) / (1 - resolved.beta1 ** step)
          : 0;
        variables.forEach((variable, i) => {
          if (resolved.weightDecay !== 0) variable.assign(tf.sub(variable, tf.mul(variable, resolved.weightDecay * lr)));
          const g = gradients[i]!;
          if (resolved.kind === 'sgd') {
            const m = slots[i]![0];
            if (!m) {
              variable.assign(tf.sub(variable, tf.mul(g, lr)));
              return;
            }
            m.assign(tf.sub(tf.mul(m, resolved.momentum), tf.mul(g, lr)));
            variable.assign(resolved.nesterov
              ? tf.add(variable, tf.sub(tf.mul(m, resolved.momentum), tf.mul(g, lr)))
              : tf.add(variable, m));
          } else {
            const [m, v] = slots[i] as [tf.Variable, tf.Variable];
            m.assign(tf.add(m, tf.mul(tf.sub(g, m), 1 - resolved.beta1)));
            v.assign(tf.add(v, tf.mul(tf.sub(tf.square(g), v), 1 - resolved.beta2)));
            variable.assign(tf.sub(variable, tf.div(tf.mul(m, alpha), tf.add(tf.sqrt(v), resolved.epsilon))));
          }
        });
      });
      iterations++;
    },
    state() {
      if (restored) return { iterations, slots: restored };
      return { iterations, slots: slots.map((s) => s.map((v) => Float32Array.from(v.dataSync() as Float32Array))) };
    },
    restore(state) {
      for (const s of slots) tf.dispose(s);
      slots = [];
      iterations = state.iterations;
      restored = state.slots.length > 0 ? state.slots : null;
    },
    dispose() {
      for (const s of slots) tf.dispose(s);
      slots = [];
    },
  };
}
