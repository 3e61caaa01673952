import * as tf from '@tensorflow/tfjs-core';
import type { FusedPlan, FusedStep } from './fused-plan.js';

/** Runs a fused plan with tfjs-core ops on whatever backend is active. */
export interface TfjsExecutor {
  /** Computes the named values for a batch; the caller owns (and disposes) the results. */
  run(input: tf.Tensor4D, wanted: readonly string[]): tf.Tensor[];
  dispose(): void;
}

interface Schedule {
  steps: readonly FusedStep[];
  /** After step i, these values are no longer needed and are freed (keeps peak memory low). */
  freeAfter: readonly (readonly string[])[];
}

export function createTfjsExecutor(plan: FusedPlan): TfjsExecutor {
  // Weights live as persistent tensors for the executor's lifetime; the wasm backend also
  // caches its XNNPACK operators by weight tensor, so reusing them matters for speed.
  const params = new Map<FusedStep, { kernel: tf.Tensor; bias?: tf.Tensor }>();
  for (const step of plan.steps) {
    if (step.kind === 'conv2d' || step.kind === 'depthwiseConv2d') {
      const kernel = tf.tensor4d(step.kernel.values, step.kernel.shape as [number, number, number, number], 'float32');
      const bias = step.kind === 'conv2d' && step.bias ? tf.tensor1d(step.bias.values, 'float32') : undefined;
      params.set(step, bias ? { kernel, bias } : { kernel });
    } else if (step.kind === 'dense') {
      params.set(step, {
        kernel: tf.tensor2d(step.kernel.values, step.kernel.shape as [number, number], 'float32'),
        bias: tf.tensor1d(step.bias.values, 'float32'),
      });
    }
  }
  const schedules = new Map<string, Schedule>();

  const scheduleFor = (wanted: readonly string[]): Schedule => {
    const key = wanted.join('\0');
    let schedule = schedules.get(key);
    if (!schedule) {
      // Walk back from the wanted values to keep only the steps they need.
      const needed = new Set(wanted);
      const steps = [...plan.steps].reverse().filter((s) => {
        if (!needed.has(s.output)) return false;
        for (const i of inputsOf(s)) needed.add(i);
        return true;
      }).reverse();
      const lastUse = new Map<string, number>();
      steps.forEach((s, i) => { for (const v of inputsOf(s)) lastUse.set(v, i); });
      const freeAfter = steps.map((_, i) =>
        [...lastUse].filter(([v, at]) => at === i && v !== plan.input && !wanted.includes(v)).map(([v]) => v));
      schedule = { steps, freeAfter };
      schedules.set(key, schedule);
    }
    return schedule;
  };

  const apply = (step: FusedStep, value: (name: string) => tf.Tensor): tf.Tensor => {
    const p = params.get(step);
    switch (step.kind) {
      case 'conv2d':
        return tf.fused.conv2d({
          x: value(step.input) as tf.Tensor4D, filter: p!.kernel as tf.Tensor4D,
          strides: step.strides, pad: step.padding, bias: p!.bias, activation: step.relu ? 'relu' : 'linear',
        });
      case 'depthwiseConv2d':
        return tf.depthwiseConv2d(value(step.input) as tf.Tensor4D, p!.kernel as tf.Tensor4D, step.strides, step.padding);
      case 'relu':
        return tf.relu(value(step.input));
      case 'maxPool':
        return tf.maxPool(value(step.input) as tf.Tensor4D, step.poolSize, step.strides, step.padding);
      case 'add':
        return tf.add(value(step.inputs[0]), value(step.inputs[1]));
      case 'globalAvgPool':
        return tf.mean(value(step.input), [1, 2]);
      case 'globalMaxPool':
        return tf.max(value(step.input), [1, 2]);
      case 'dense': {
        const logits = tf.fused.matMul({ a: value(step.input) as tf.Tensor2D, b: p!.kernel as tf.Tensor2D, bias: p!.bias });
        if (step.activation === 'softmax') return tf.softmax(logits);
        if (step.activation === 'sigmoid') return tf.sigmoid(logits);
        return logits;
      }
    }
  };

  return {
    run(input, wanted) {
      const schedule = scheduleFor(wanted);
      return tf.tidy(() => {
        const values = new Map<string, tf.Tensor>([[plan.input, input]]);
        const value = (name: string): tf.Tensor => values.get(name)!;
        schedule.steps.forEach((step, i) => {
          values.set(step.output, apply(step, value));
          for (const name of schedule.freeAfter[i]!) {
            values.get(name)!.dispose();
            values.delete(name);
          }
        });
        return wanted.map((name) => (name === plan.input ? input.clone() : values.get(name)!));
      });
    },
    dispose() {
      for (const { kernel, bias } of params.values()) {
        kernel.dispose();
        bias?.dispose();
      }
      params.clear();
    },
  };
}

function inputsOf(step: FusedStep): readonly string[] {
  return step.kind === 'add' ? step.inputs : [step.input];
}
