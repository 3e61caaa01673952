/**
 * The vocabulary of the Xception graph description: Keras' layer kinds, channels last, with the
 * shapes of the weights each one owns. Executors (tfjs today, ONNX export later) and the weight
 * contract all read this one description; none of them spells out Xception again.
 */

export type Padding = 'valid' | 'same';

/** A weight as Keras names and lays it out: HWIO kernels, depthwise [k, k, C, 1], dense [in, out]. */
export interface WeightSpec {
  /** Keras' weight name, `layer/variable`: `block1_conv1/kernel`, `block2_sepconv1_bn/gamma`. */
  readonly name: string;
  /** The layer that owns the weight. */
  readonly layer: string;
  readonly shape: readonly number[];
}

interface NodeBase {
  /** The layer name (Keras' name where Keras gives one). */
  readonly name: string;
  /** Names of the nodes this one reads, in Keras' argument order. */
  readonly inputs: readonly string[];
  /** Channels of this node's output. */
  readonly channels: number;
  /** The weights this layer owns, in Keras' order (the order of an HDF5 `weight_names`). */
  readonly weights: readonly WeightSpec[];
}

export interface InputNode extends NodeBase {
  readonly op: 'input';
  readonly shape: readonly [number | null, number | null, number];
}
export interface Conv2dNode extends NodeBase {
  readonly op: 'conv2d';
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: Padding;
}
/** Keras' SeparableConv2D: a depthwise kxk conv (multiplier 1), then a pointwise 1x1 conv; no bias. */
export interface SeparableConv2dNode extends NodeBase {
  readonly op: 'separableConv2d';
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: Padding;
}
export interface BatchNormNode extends NodeBase {
  readonly op: 'batchNorm';
  readonly epsilon: number;
}
export interface ReluNode extends NodeBase {
  readonly op: 'relu';
}
export interface MaxPoolNode extends NodeBase {
  readonly op: 'maxPool';
  readonly poolSize: number;
  readonly strides: number;
  readonly padding: Padding;
}
export interface AddNode extends NodeBase {
  readonly op: 'add';
}
export interface GlobalPoolNode extends NodeBase {
  readonly op: 'globalAvgPool' | 'globalMaxPool';
}
export interface DenseNode extends NodeBase {
  readonly op: 'dense';
  readonly units: number;
  readonly activation: 'softmax' | 'sigmoid' | null;
}

export type GraphNode =
  | InputNode
  | Conv2dNode
  | SeparableConv2dNode
  | BatchNormNode
  | ReluNode
  | MaxPoolNode
  | AddNode
  | GlobalPoolNode
  | DenseNode;

/** A whole network: nodes in a valid execution order, and which node is which output. */
export interface GraphDescription {
  readonly nodes: readonly GraphNode[];
  /** The model's output (predictions, pooled features, or the 4D block-14 features). */
  readonly output: string;
  /** The 2048-d globally pooled features (average-pooled unless pooling is 'max'). */
  readonly pooledFeatures: string;
}

/**
 * Records layers as Keras' functional API would, tracking channel counts so that every layer
 * knows its weight shapes. Each method returns the new node's name, like a Keras tensor.
 */
export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly channelsOf = new Map<string, number>();

  input(name: string, shape: readonly [number | null, number | null, number]): string {
    return this.push({ op: 'input', name, inputs: [], channels: shape[2], weights: [], shape });
  }

  conv2d(name: string, x: string, filters: number, kernelSize: number, opts: { strides?: number; padding?: Padding } = {}): string {
    const inChannels = this.channels(x);
    return this.push({
      op: 'conv2d', name, inputs: [x], channels: filters, kernelSize,
      strides: opts.strides ?? 1, padding: opts.padding ?? 'valid',
      weights: [spec(name, 'kernel', [kernelSize, kernelSize, inChannels, filters])],
    });
  }

  separableConv2d(name: string, x: string, filters: number, kernelSize = 3): string {
    const inChannels = this.channels(x);
    return this.push({
      op: 'separableConv2d', name, inputs: [x], channels: filters, kernelSize, strides: 1, padding: 'same',
      weights: [
        spec(name, 'depthwise_kernel', [kernelSize, kernelSize, inChannels, 1]),
        spec(name, 'pointwise_kernel', [1, 1, inChannels, filters]),
      ],
    });
  }

  batchNorm(name: string, x: string, epsilon = 1e-3): string {
    const c = this.channels(x);
    return this.push({
      op: 'batchNorm', name, inputs: [x], channels: c, epsilon,
      weights: ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((v) => spec(name, v, [c])),
    });
  }

  relu(name: string, x: string): string {
    return this.push({ op: 'relu', name, inputs: [x], channels: this.channels(x), weights: [] });
  }

  maxPool(name: string, x: string, poolSize = 3, strides = 2): string {
    return this.push({ op: 'maxPool', name, inputs: [x], channels: this.channels(x), weights: [], poolSize, strides, padding: 'same' });
  }

  add(name: string, a: string, b: string): string {
    return this.push({ op: 'add', name, inputs: [a, b], channels: this.channels(a), weights: [] });
  }

  globalPool(name: string, x: string, kind: 'avg' | 'max'): string {
    const op = kind === 'avg' ? 'globalAvgPool' : 'globalMaxPool';
    return this.push({ op, name, inputs: [x], channels: this.channels(x), weights: [] });
  }

  dense(name: string, x: string, units: number, activation: DenseNode['activation']): string {
    const inFeatures = this.channels(x);
    return this.push({
      op: 'dense', name, inputs: [x], channels: units, units, activation,
      weights: [spec(name, 'kernel', [inFeatures, units]), spec(name, 'bias', [units])],
    });
  }

  build(output: string, pooledFeatures: string): GraphDescription {
    return Object.freeze({ nodes: Object.freeze([...this.nodes]), output, pooledFeatures });
  }

  private channels(name: string): number {
    const c = this.channelsOf.get(name);
    if (c === undefined) throw new Error(`graph description bug: '${name}' is used before it is defined`);
    return c;
  }

  private push(node: GraphNode): string {
    if (this.channelsOf.has(node.name)) throw new Error(`graph description bug: '${node.name}' is defined twice`);
    this.nodes.push(node);
    this.channelsOf.set(node.name, node.channels);
    return node.name;
  }
}

function spec(layer: string, variable: string, shape: number[]): WeightSpec {
  return Object.freeze({ name: `${layer}/${variable}`, layer, shape: Object.freeze(shape) });
}
