import * as tf from '@tensorflow/tfjs-core';
import { MIN_SIZE, resolveXceptionConfig, type XceptionConfig, type XceptionOptions } from './config.js';
import { XceptionDisposedError, XceptionInputError, XceptionWeightsError } from './errors.js';
import { compileFusedPlan, type FoldedWeight, type WeightValues } from './fused-plan.js';
import type { GraphDescription } from './graph-nodes.js';
import { kerasInitialWeights } from './keras-initializers.js';
import { createTfjsExecutor } from './tfjs-executor.js';
import { weightSpecsOf } from './weight-specs.js';
import { describeXception } from './xception-graph.js';

/** Keras weight name to tensor, in Keras' layout (see expectedWeights()). */
export type XceptionWeightMap = ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>;

export interface CreateXceptionOptions extends XceptionOptions {
  /** Seed for Keras' initialisers when no weights are given (default 0, reproducible). */
  seed?: number;
}

export interface XceptionPrediction {
  /** What predict() returns. */
  output: tf.Tensor;
  /** The globally pooled 2048-d features, [batch, 2048]. */
  features: tf.Tensor2D;
}

/** A built Xception: Keras' model, folded and fused for inference. */
export interface XceptionModel {
  readonly config: XceptionConfig;
  /** The layer description the model was built from (shared by every executor). */
  readonly graph: GraphDescription;
  /** Keras' `model.output_shape`, batch first (null for dynamic sizes). */
  readonly outputShape: readonly (number | null)[];
  /**
   * Runs a batch of preprocessed images, float32 [batch, height, width, 3] in [-1, 1]:
   * probabilities (logits when classifierActivation is null) with a top, else the 4D features,
   * or [batch, 2048] with pooling. The caller disposes the result.
   */
  predict(images: tf.Tensor4D): tf.Tensor;
  /** predict() plus the pooled 2048-d features from the same pass. */
  predictWithFeatures(images: tf.Tensor4D): XceptionPrediction;
  /** Frees the weights; the model cannot be used afterwards. */
  dispose(): void;
}

/**
 * Builds Xception from Keras-named tensors (ownership stays with the caller: the model keeps
 * folded copies), or with Keras' initialisers when `weights` is null.
 */
export async function createXception(
  options: CreateXceptionOptions = {},
  weights: XceptionWeightMap | null = null,
): Promise<XceptionModel> {
  if (weights === null) return createXceptionFromValues(options, null);
  const entries = weights instanceof Map ? [...weights] : Object.entries(weights);
  const values = new Map<string, FoldedWeight>();
  for (const [name, tensor] of entries) {
    if (!(tensor instanceof tf.Tensor)) {
      throw new XceptionWeightsError(`Weight '${name}' is not a tf.Tensor; pass a map from Keras weight names to tensors.`);
    }
    const data = await tensor.data();
    values.set(name, { shape: tensor.shape, values: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>) });
  }
  return createXceptionFromValues({ ...options, weights: options.weights === undefined ? 'weight-map' : options.weights }, values);
}

/**
 * The same from plain float32 arrays (what weight loaders read out of files), so that no
 * tensors need to exist before the folded ones.
 */
export function createXceptionFromValues(options: CreateXceptionOptions, values: WeightValues | null): XceptionModel {
  const config = resolveXceptionConfig({
    ...options,
    weights: options.weights !== undefined ? options.weights : values ? 'weight-map' : null,
  });
  const graph = describeXception(config);
  const weightValues = values ?? kerasInitialWeights(weightSpecsOf(graph), options.seed ?? 0);
  const plan = compileFusedPlan(graph, weightValues);
  const executor = createTfjsExecutor(plan);
  let disposed = false;

  const run = (images: tf.Tensor4D, wanted: readonly string[]): tf.Tensor[] => {
    if (disposed) throw new XceptionDisposedError();
    checkImages(images, config);
    return executor.run(images, wanted);
  };

  return {
    config,
    graph,
    outputShape: outputShapeOf(config),
    predict(images) {
      return run(images, [plan.output])[0]!;
    },
    predictWithFeatures(images) {
      if (plan.output === plan.pooledFeatures) {
        const [output] = run(images, [plan.output]);
        return { output: output!, features: output!.clone() as tf.Tensor2D };
      }
      const [output, features] = run(images, [plan.output, plan.pooledFeatures]);
      return { output: output!, features: features as tf.Tensor2D };
    },
    dispose() {
      if (!disposed) executor.dispose();
      disposed = true;
    },
  };
}

/** Side length after block 1's two valid 3x3 convs (the first strided) and four 'same' /2 pools. */
export function featureMapSize(side: number): number {
  let s = Math.floor((side - 3) / 2) + 1 - 2;
  for (let i = 0; i < 4; i++) s = Math.ceil(s / 2);
  return s;
}

function outputShapeOf(config: XceptionConfig): (number | null)[] {
  if (config.includeTop) return [null, config.classes];
  if (config.pooling !== null) return [null, 2048];
  const [h, w] = config.inputShape;
  return [null, h === null ? null : featureMapSize(h), w === null ? null : featureMapSize(w), 2048];
}

function checkImages(images: unknown, config: XceptionConfig): asserts images is tf.Tensor4D {
  if (!(images instanceof tf.Tensor)) {
    throw new XceptionInputError(`predict expects a tf.Tensor4D [batch, height, width, 3]; received ${images === null ? 'null' : typeof images}.`);
  }
  const shape = `[${images.shape.join(', ')}]`;
  if (images.rank !== 4) {
    throw new XceptionInputError(
      `predict expects a 4D tensor [batch, height, width, 3]; received shape ${shape}${images.rank === 3 ? ' (add a batch dimension with expandDims(0))' : ''}.`,
    );
  }
  const [batch, height, width, channels] = images.shape as [number, number, number, number];
  if (channels !== 3) throw new XceptionInputError(`predict expects 3 channels (RGB); received shape ${shape}.`);
  if (batch < 1) throw new XceptionInputError(`predict expects at least one image in the batch; received shape ${shape}.`);
  if (images.dtype !== 'float32') {
    throw new XceptionInputError(
      `predict expects float32 pixels scaled to [-1, 1] by preprocessInput; received dtype ${images.dtype} with shape ${shape}.`,
    );
  }
  const [wantH, wantW] = config.inputShape;
  if ((wantH !== null && height !== wantH) || (wantW !== null && width !== wantW)) {
    throw new XceptionInputError(
      `predict expects ${wantH ?? 'any'}x${wantW ?? 'any'} images (the model's inputShape); received ${height}x${width} in shape ${shape}; resize the images or build the model with another inputShape.`,
    );
  }
  if (height < MIN_SIZE || width < MIN_SIZE) {
    throw new XceptionInputError(`predict expects images of at least ${MIN_SIZE}x${MIN_SIZE}; received ${height}x${width} in shape ${shape}.`);
  }
}
