import { XceptionWeightsError, type WeightProblem } from './errors.js';
import type { GraphDescription, GraphNode, Padding } from './graph-nodes.js';
import { liveNodeNames, weightSpecsOf } from './weight-specs.js';

/** A weight after folding: plain float32 data, shape in Keras' layout. */
export interface FoldedWeight {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/**
 * One executable step. Each BatchNorm is folded into the convolution before it (as a bias), and
 * a relu that only that convolution feeds becomes the convolution's fused activation, so the
 * executor runs about half as many ops as Keras has layers, each a fused kernel where the
 * backend has one.
 */
export type FusedStep =
  | { readonly kind: 'conv2d'; readonly output: string; readonly input: string; readonly kernel: FoldedWeight; readonly bias: FoldedWeight | null; readonly strides: number; readonly padding: Padding; readonly relu: boolean; readonly layers: readonly string[] }
  | { readonly kind: 'depthwiseConv2d'; readonly output: string; readonly input: string; readonly kernel: FoldedWeight; readonly strides: number; readonly padding: Padding; readonly layers: readonly string[] }
  | { readonly kind: 'relu'; readonly output: string; readonly input: string; readonly layers: readonly string[] }
  | { readonly kind: 'maxPool'; readonly output: string; readonly input: string; readonly poolSize: number; readonly strides: number; readonly padding: Padding; readonly layers: readonly string[] }
  | { readonly kind: 'add'; readonly output: string; readonly inputs: readonly [string, string]; readonly layers: readonly string[] }
  | { readonly kind: 'globalAvgPool' | 'globalMaxPool'; readonly output: string; readonly input: string; readonly layers: readonly string[] }
  | { readonly kind: 'dense'; readonly output: string; readonly input: string; readonly kernel: FoldedWeight; readonly bias: FoldedWeight; readonly activation: 'softmax' | 'sigmoid' | null; readonly layers: readonly string[] };

export interface FusedPlan {
  readonly input: string;
  readonly steps: readonly FusedStep[];
  readonly output: string;
  readonly pooledFeatures: string;
}

/** Weight values by Keras name, already read out of whatever tensors or files held them. */
export type WeightValues = ReadonlyMap<string, FoldedWeight>;

/**
 * The index of the first NaN or ±Infinity in `values`, or -1: a plain loop (a callback per value,
 * as `every(Number.isFinite)` makes, cost ~0.3 s per full-size model).
 */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) return i; // NaN for NaN and ±Infinity, 0 for every finite value
  }
  return -1;
}

/** Checks a weight map against the graph's contract and reports every problem at once. */
export function checkWeightValues(graph: GraphDescription, weights: WeightValues): void {
  const specs = weightSpecsOf(graph);
  const expected = new Set(specs.map((s) => s.name));
  const problems: WeightProblem[] = [];
  for (const s of specs) {
    const w = weights.get(s.name);
    if (!w) problems.push({ name: s.name, problem: 'missing', expectedShape: s.shape });
    else if (w.shape.length !== s.shape.length || w.shape.some((d, i) => d !== s.shape[i])) {
      problems.push({ name: s.name, problem: 'shape', expectedShape: s.shape, actualShape: w.shape });
    } else if (firstNonFinite(w.values) >= 0) {
      problems.push({ name: s.name, problem: 'non-finite', expectedShape: s.shape });
    }
  }
  for (const name of weights.keys()) if (!expected.has(name)) problems.push({ name, problem: 'unexpected' });
  if (problems.length > 0) throw new XceptionWeightsError(describeProblems(problems), problems);
}

function describeProblems(problems: readonly WeightProblem[]): string {
  const part = (kind: WeightProblem['problem'], label: string, show: (p: WeightProblem) => string): string | null => {
    const list = problems.filter((p) => p.problem === kind);
    if (list.length === 0) return null;
    const shown = list.slice(0, 8).map(show).join(', ');
    return `${list.length} ${label} (${shown}${list.length > 8 ? `, and ${list.length - 8} more` : ''})`;
  };
  const parts = [
    part('missing', 'missing', (p) => p.name),
    part('unexpected', 'unexpected', (p) => p.name),
    part('shape', 'mis-shaped', (p) => `${p.name} is [${p.actualShape!.join(', ')}], expected [${p.expectedShape!.join(', ')}]`),
    part('non-finite', 'with NaN or Inf values', (p) => p.name),
  ].filter((p): p is string => p !== null);
  return `The weights do not fit this Xception configuration: ${parts.join('; ')}; check that the file matches includeTop, classes and the Keras layer names (see expectedWeights()).`;
}

/**
 * Compiles the description into fused steps, folding every BatchNorm into the convolution that
 * feeds it: W' = W * s and b' = beta - mean * s with s = gamma / sqrt(variance + epsilon),
 * computed in float64 so that every backend gets the same float32 weights.
 */
export function compileFusedPlan(graph: GraphDescription, weights: WeightValues): FusedPlan {
  checkWeightValues(graph, weights);
  const live = liveNodeNames(graph, [graph.output, graph.pooledFeatures]);
  const nodes = graph.nodes.filter((n) => live.has(n.name));
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const consumers = new Map<string, GraphNode[]>();
  for (const n of nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const onlyConsumer = (name: string): GraphNode | undefined => {
    const list = consumers.get(name) ?? [];
    return list.length === 1 && name !== graph.output && name !== graph.pooledFeatures ? list[0] : undefined;
  };
  const w = (name: string): FoldedWeight => weights.get(name)!;

  // Names that a fused step produces under another node's name (a folded BN, a fused relu).
  const alias = new Map<string, string>();
  const resolve = (name: string): string => alias.get(name) ?? name;
  const consumed = new Set<string>();
  const steps: FusedStep[] = [];
  let input = '';

  for (const node of nodes) {
    if (consumed.has(node.name)) continue;
    switch (node.op) {
      case 'input':
        input = node.name;
        break;
      case 'conv2d':
      case 'separableConv2d': {
        const bn = onlyConsumer(node.name);
        const folded = bn?.op === 'batchNorm' ? bn : undefined;
        const relu = folded ? onlyConsumer(folded.name) : undefined;
        const fusedRelu = relu?.op === 'relu' ? relu : undefined;
        const last = fusedRelu ?? folded ?? node;
        const layers = [node.name, folded?.name, fusedRelu?.name].filter((n): n is string => n !== undefined);
        let pointwiseInput = resolve(node.inputs[0]!);
        const kernelName = node.op === 'conv2d' ? `${node.name}/kernel` : `${node.name}/pointwise_kernel`;
        if (node.op === 'separableConv2d') {
          const depthwiseOut = `${node.name}/depthwise`;
          steps.push({ kind: 'depthwiseConv2d', output: depthwiseOut, input: pointwiseInput, kernel: w(`${node.name}/depthwise_kernel`), strides: node.strides, padding: node.padding, layers: [node.name] });
          pointwiseInput = depthwiseOut;
        }
        const { kernel, bias } = folded ? foldBatchNorm(w(kernelName), folded.name, folded.epsilon, w) : { kernel: w(kernelName), bias: null };
        steps.push({
          kind: 'conv2d', output: last.name, input: pointwiseInput, kernel, bias,
          strides: node.op === 'conv2d' ? node.strides : 1, padding: node.op === 'conv2d' ? node.padding : 'valid',
          relu: fusedRelu !== undefined, layers,
        });
        for (const n of layers) { consumed.add(n); alias.set(n, last.name); }
        break;
      }
      case 'batchNorm':
        throw new Error(`graph description bug: BatchNorm '${node.name}' does not follow a convolution`);
      case 'relu':
        steps.push({ kind: 'relu', output: node.name, input: resolve(node.inputs[0]!), layers: [node.name] });
        break;
      case 'maxPool':
        steps.push({ kind: 'maxPool', output: node.name, input: resolve(node.inputs[0]!), poolSize: node.poolSize, strides: node.strides, padding: node.padding, layers: [node.name] });
        break;
      case 'add':
        steps.push({ kind: 'add', output: node.name, inputs: [resolve(node.inputs[0]!), resolve(node.inputs[1]!)], layers: [node.name] });
        break;
      case 'globalAvgPool':
      case 'globalMaxPool':
        steps.push({ kind: node.op, output: node.name, input: resolve(node.inputs[0]!), layers: [node.name] });
        break;
      case 'dense':
        steps.push({ kind: 'dense', output: node.name, input: resolve(node.inputs[0]!), kernel: w(`${node.name}/kernel`), bias: w(`${node.name}/bias`), activation: node.activation, layers: [node.name] });
        break;
    }
  }
  if (!byName.has(input)) throw new Error('graph description bug: no input node');
  return Object.freeze({ input, steps: Object.freeze(steps), output: resolve(graph.output), pooledFeatures: resolve(graph.pooledFeatures) });
}

function foldBatchNorm(kernel: FoldedWeight, bn: string, epsilon: number, w: (name: string) => FoldedWeight): { kernel: FoldedWeight; bias: FoldedWeight } {
  const gamma = w(`${bn}/gamma`).values;
  const beta = w(`${bn}/beta`).values;
  const mean = w(`${bn}/moving_mean`).values;
  const variance = w(`${bn}/moving_variance`).values;
  const outChannels = gamma.length;
  const scale = new Float64Array(outChannels);
  const bias = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    scale[o] = gamma[o]! / Math.sqrt(variance[o]! + epsilon);
    bias[o] = beta[o]! - mean[o]! * scale[o]!;
  }
  // HWIO: the output channel is the fastest-moving index, so each kernel position is one run of
  // outChannels values (two plain loops: a modulo per value cost ~0.5 s per full-size model).
  const source = kernel.values;
  const values = new Float32Array(source.length);
  for (let start = 0; start < values.length; start += outChannels) {
    for (let o = 0; o < outChannels; o++) values[start + o] = source[start + o]! * scale[o]!;
  }
  return { kernel: { shape: kernel.shape, values }, bias: { shape: [outChannels], values: bias } };
}
