import * as tf from '@tensorflow/tfjs-core';
import { describeXception, type GraphNode, type WeightValues, type XceptionConfig } from '@xception/core';
import * as differentiable from './differentiable-convs.js';
import type { PendingAssign, TrainableModel } from './trainable-model.js';
import { TRAINABLE_FROM_CHOICES, type TrainableFrom } from './trainable-from.js';

export { TRAINABLE_FROM_CHOICES, type TrainableFrom };

export interface TrainingGraphOptions {
  /** A configuration with a top (includeTop, classes) and a softmax classifier. */
  config: XceptionConfig;
  /** Keras' weights by name, as expectedWeights(config) lists them (BatchNorm not folded). */
  values: WeightValues;
  trainableFrom: TrainableFrom;
  /** Keras' `kernel_regularizer=l2(l2)` on every trainable kernel (conv, depthwise, pointwise, dense). Default 0. */
  l2?: number;
  /**
   * How the trainable BatchNorms run while training: 'training' (batch statistics, moving
   * statistics updated; the default, as Keras' fit() runs a trainable layer) or 'inference'
   * (moving statistics, gamma and beta still trained: Keras' fine-tuning guide's
   * `base_model(x, training=False)`, which keeps few-example batches from skewing them).
   */
  batchNorm?: 'training' | 'inference';
}

/**
 * The network split where training starts. The frozen part runs once per image (inference mode,
 * so its output never changes); `logits()` and fit() take its output, the activations entering
 * the first trainable block, so each epoch runs the trainable blocks alone.
 */
export interface TrainingGraph extends TrainableModel {
  /** The names of the layers that train, in graph order. */
  readonly trainableLayers: readonly string[];
  /** The layer whose output the trainable part reads (`block12_add` for 'block13'). */
  readonly boundary: string;
  /** The frozen part on a batch of preprocessed images: the activations at `boundary`. The caller owns the result. */
  frozenForward(images: tf.Tensor4D): tf.Tensor;
  /** Every weight's current value, by Keras name (for saving the fine-tuned model). */
  values(): Map<string, { shape: readonly number[]; values: Float32Array }>;
}

/** The block a layer belongs to, by its Keras name: blockN_... is N, the top comes after block 14. */
function blockOf(name: string): number {
  const match = /^block(\d+)_/.exec(name);
  if (match) return Number(match[1]);
  return name === 'input_1' ? 0 : 15;
}

interface WeightTensors {
  /** Every weight by Keras name: constants before the trainable blocks, tf.Variables from them on. */
  tensors: Map<string, tf.Tensor>;
  trainableVariables: tf.Variable[];
  movingStatistics: tf.Variable[];
  /** The trainable kernels, for Keras' l2 kernel regularizer. */
  regularized: tf.Variable[];
}

function checkOptions({ config, trainableFrom }: TrainingGraphOptions): void {
  if (!config.includeTop || config.classifierActivation !== 'softmax') {
    throw new RangeError('createTrainingGraph needs a configuration with a softmax top (includeTop: true, classifierActivation: \'softmax\').');
  }
  if (!TRAINABLE_FROM_CHOICES.includes(trainableFrom)) {
    throw new RangeError(`trainableFrom is '${trainableFrom}'; use one of ${TRAINABLE_FROM_CHOICES.join(', ')}.`);
  }
}

/** The weights as tensors: a frozen layer's as constants, a trainable one's as tf.Variables (moving statistics not trained by gradients). */
function createWeightTensors(nodes: readonly GraphNode[], values: WeightValues, isTrainable: (node: GraphNode) => boolean): WeightTensors {
  const made: WeightTensors = { tensors: new Map(), trainableVariables: [], movingStatistics: [], regularized: [] };
  for (const node of nodes) {
    for (const spec of node.weights) {
      const given = values.get(spec.name);
      if (!given || given.values.length !== spec.shape.reduce((a, b) => a * b, 1)) {
        throw new RangeError(`values lack weight '${spec.name}' of shape [${spec.shape}]; pass the weights expectedWeights(config) lists.`);
      }
      const value = (): tf.Tensor => tf.tensor(given.values, [...spec.shape], 'float32');
      if (!isTrainable(node)) {
        made.tensors.set(spec.name, value());
        continue;
      }
      const moving = spec.name.endsWith('/moving_mean') || spec.name.endsWith('/moving_variance');
      const variable = tf.tidy(() => tf.variable(value(), !moving));
      made.tensors.set(spec.name, variable);
      (moving ? made.movingStatistics : made.trainableVariables).push(variable);
      if (/kernel$/.test(spec.name)) made.regularized.push(variable);
    }
  }
  return made;
}

/** The one frozen layer the trainable part reads. */
function boundaryOf(trainableNodes: readonly GraphNode[]): string {
  const regionNames = new Set(trainableNodes.map((n) => n.name));
  const boundaries = [...new Set(trainableNodes.flatMap((n) => n.inputs).filter((i) => !regionNames.has(i)))];
  if (boundaries.length !== 1) throw new Error(`training graph bug: the trainable part reads ${boundaries.length} frozen layers (${boundaries.join(', ')})`);
  return boundaries[0]!;
}

/** What one layer needs to run besides its inputs. */
interface LayerContext {
  weight(node: GraphNode, variable: string): tf.Tensor;
  isTrainable(node: GraphNode): boolean;
  inTrainableRegion(node: GraphNode): boolean;
  /** The graph's output layer: its softmax is left to the loss. */
  output: string;
  /** True where trainable BatchNorms use the batch's statistics (training, batchNorm not 'inference'). */
  batchStatistics: boolean;
  updates: PendingAssign[] | undefined;
}

/** Keras' BatchNormalization: in training, the batch's mean and (biased) variance, with the moving statistics' updates queued. */
function batchNormLayer(node: GraphNode & { op: 'batchNorm' }, x: tf.Tensor, ctx: LayerContext): tf.Tensor {
  const gamma = ctx.weight(node, 'gamma');
  const beta = ctx.weight(node, 'beta');
  if (!ctx.batchStatistics || !ctx.isTrainable(node)) {
    return tf.batchNorm(x, ctx.weight(node, 'moving_mean'), ctx.weight(node, 'moving_variance'), beta, gamma, node.epsilon);
  }
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const momentum = 0.99;
  for (const [name, batchValue] of [['moving_mean', mean], ['moving_variance', variance]] as const) {
    const variable = ctx.weight(node, name) as tf.Variable;
    ctx.updates?.push({ variable, value: tf.keep(tf.add(tf.mul(variable, momentum), tf.mul(batchValue, 1 - momentum))) });
  }
  return tf.batchNorm(x, mean, variance, beta, gamma, node.epsilon);
}

function applyLayer(node: GraphNode, inputs: tf.Tensor[], ctx: LayerContext): tf.Tensor {
  const [x] = inputs as [tf.Tensor];
  switch (node.op) {
    case 'input': return x;
    // Trainable convs in the form whose gradients are fast on every backend (differentiable-convs.ts).
    case 'conv2d':
      return (ctx.isTrainable(node) ? differentiable.conv2d : tf.conv2d)(x as tf.Tensor4D, ctx.weight(node, 'kernel') as tf.Tensor4D, node.strides, node.padding);
    case 'separableConv2d':
      return (ctx.isTrainable(node) ? differentiable.separableConv2d : tf.separableConv2d)(
        x as tf.Tensor4D, ctx.weight(node, 'depthwise_kernel') as tf.Tensor4D, ctx.weight(node, 'pointwise_kernel') as tf.Tensor4D, node.strides, node.padding);
    case 'batchNorm': return batchNormLayer(node, x, ctx);
    case 'relu': return tf.relu(x);
    case 'maxPool':
      return (ctx.inTrainableRegion(node) ? differentiable.maxPool : tf.maxPool)(x as tf.Tensor4D, node.poolSize, node.strides, node.padding);
    case 'add': return tf.add(inputs[0]!, inputs[1]!);
    case 'globalAvgPool': return tf.mean(x, [1, 2]);
    case 'globalMaxPool': return tf.max(x, [1, 2]);
    case 'dense': {
      const logits = tf.add(tf.matMul(x as tf.Tensor2D, ctx.weight(node, 'kernel') as tf.Tensor2D), ctx.weight(node, 'bias'));
      // The classifier's softmax is left to the loss (Keras' cross-entropy takes its logits too).
      return node.name === ctx.output ? logits : node.activation === 'softmax' ? tf.softmax(logits) : node.activation === 'sigmoid' ? tf.sigmoid(logits) : logits;
    }
  }
}

/** Runs `nodes` in order from `input` (given as x) and returns `output`'s value. */
function runNodes(nodes: readonly GraphNode[], input: string, x: tf.Tensor, output: string, ctx: LayerContext): tf.Tensor {
  const values = new Map<string, tf.Tensor>([[input, x]]);
  for (const node of nodes) {
    if (node.op === 'input') continue;
    values.set(node.name, applyLayer(node, node.inputs.map((i) => values.get(i)!), ctx));
  }
  return values.get(output)!;
}

/**
 * Xception in training form, from describeXception (the one description of the network): each
 * layer as Keras runs it, BatchNorm unfolded. Layers from `trainableFrom` on hold tf.Variables
 * and their BatchNorms run in training mode (batch statistics, moving statistics updated with
 * Keras' momentum 0.99); the layers before are constants and their BatchNorms use the moving
 * statistics, as Keras runs a layer whose `trainable` is False.
 */
export function createTrainingGraph(options: TrainingGraphOptions): TrainingGraph {
  checkOptions(options);
  const { config, trainableFrom } = options;
  const l2 = options.l2 ?? 0;
  const graph = describeXception(config);
  const firstTrainable = trainableFrom === 'predictions' ? 15 : Number(trainableFrom.slice(5));
  const isTrainable = (node: GraphNode): boolean => node.weights.length > 0 && blockOf(node.name) >= firstTrainable;
  const { tensors, trainableVariables, movingStatistics, regularized } = createWeightTensors(graph.nodes, options.values, isTrainable);

  // The trainable region: every layer from the first trainable block on, weightless ones included.
  const inTrainableRegion = (node: GraphNode): boolean => blockOf(node.name) >= firstTrainable;
  const frozenNodes = graph.nodes.filter((n) => !inTrainableRegion(n));
  const trainableNodes = graph.nodes.filter(inTrainableRegion);
  const boundary = boundaryOf(trainableNodes);
  const context = (training: boolean, updates?: PendingAssign[]): LayerContext => ({
    weight: (node, variable) => tensors.get(`${node.name}/${variable}`)!,
    isTrainable,
    inTrainableRegion,
    output: graph.output,
    batchStatistics: training && options.batchNorm !== 'inference',
    updates,
  });

  return {
    classes: config.classes,
    trainableVariables,
    variables: [...trainableVariables, ...movingStatistics],
    trainableLayers: graph.nodes.filter(isTrainable).map((n) => n.name),
    boundary,
    frozenForward: (images) => tf.tidy(() => runNodes(frozenNodes, graph.nodes[0]!.name, images, boundary, context(false))),
    logits: (x, training, updates) => tf.tidy(() => runNodes(trainableNodes, boundary, x, graph.output, context(training, updates)) as tf.Tensor2D),
    regularizationLoss() {
      if (l2 === 0 || regularized.length === 0) return null;
      return tf.tidy(() => tf.mul(tf.addN(regularized.map((k) => tf.sum(tf.square(k)))), l2) as tf.Scalar);
    },
    values() {
      const out = new Map<string, { shape: readonly number[]; values: Float32Array }>();
      for (const [name, tensor] of tensors) out.set(name, { shape: tensor.shape, values: Float32Array.from(tensor.dataSync() as Float32Array) });
      return out;
    },
    dispose() {
      tf.dispose([...tensors.values()]);
      tensors.clear();
    },
  };
}
