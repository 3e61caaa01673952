import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type TensorProto = InstanceType<typeof onnx.TensorProto>;
/** A decoded node: protobufjs gives repeated fields as arrays (empty when absent), which its types leave optional. */
type NodeProto = InstanceType<typeof onnx.NodeProto> & { opType: string; input: string[]; output: string[] };
type GraphProto = Omit<InstanceType<typeof onnx.GraphProto>, 'node' | 'initializer' | 'output'> & { node: NodeProto[]; initializer: TensorProto[]; output: Array<{ name: string }> };
type ModelProto = Omit<InstanceType<typeof onnx.ModelProto>, 'graph'> & { graph: GraphProto };

/** The float range an activation tensor is quantized over (calibrated on photos). */
export interface ActivationRange {
  min: number;
  max: number;
}

/**
 * Ops whose inputs are quantized: onnxruntime fuses `DequantizeLinear → op → QuantizeLinear`
 * around each into its int8 kernel (QLinearConv, QLinearAdd, QLinearGlobalAveragePool; MaxPool
 * and Relu run on the uint8 values directly). Everything else stays float, the classifier's Gemm
 * included: it is 0.02% of the multiply-adds, and kept float it measured a top-5 overlap with
 * fp32 of 0.975 against 0.967 quantized (299x299, seeded weights, 122 shared photos; top-1 and
 * the embeddings' cosine the same), as onnxruntime's quantize_static did (0.975 against 0.961).
 */
const QUANTIZED_OPS = new Set(['Conv', 'Add', 'MaxPool', 'GlobalAveragePool', 'Relu']);
/** Ops whose input 1 is a weight initializer quantized per output channel, and on which axis of it. */
const WEIGHT_AXIS: Record<string, number> = { Conv: 0 }; // OIHW: O

/** A decoded model with each Conv's lone Relu folded into it, as the int8 graph has it. */
function foldedGraph(bytes: Uint8Array): ModelProto {
  const model = onnx.ModelProto.decode(bytes) as ModelProto;
  const graph = model.graph;
  const outputs = new Set(graph.output.map((o) => o.name));
  const consumers = consumersOf(graph.node);
  const dropped = new Set<NodeProto>();
  for (const node of graph.node) {
    if (node.opType !== 'Conv') continue;
    const users = consumers.get(node.output[0]!) ?? [];
    // Conv → Relu with nothing else reading the Conv: the uint8 activation (zero point 0) is the
    // Relu, as onnxruntime's quantize_static also removes it.
    if (users.length === 1 && users[0]!.opType === 'Relu' && !outputs.has(node.output[0]!)) {
      node.output[0] = users[0]!.output[0]!;
      dropped.add(users[0]!);
    }
  }
  graph.node = graph.node.filter((n) => !dropped.has(n));
  return model;
}

function consumersOf(nodes: readonly NodeProto[]): Map<string, NodeProto[]> {
  const map = new Map<string, NodeProto[]>();
  for (const node of nodes) for (const input of node.input) map.set(input, [...(map.get(input) ?? []), node]);
  return map;
}

/**
 * The activation tensors the int8 graph quantizes (every input of a quantized op that is no
 * weight), in graph order: what calibration measures. Names are those of the float model,
 * whose graph outputs they can be made for calibration.
 */
export function qdqCalibrationTensors(fp32Bytes: Uint8Array): string[] {
  const graph = foldedGraph(fp32Bytes).graph;
  const weights = new Set(graph.initializer.map((t) => t.name));
  const seen = new Set<string>();
  for (const node of graph.node) {
    if (!QUANTIZED_OPS.has(node.opType!)) continue;
    const activations = node.opType === 'Add' ? node.input : node.input.slice(0, 1);
    for (const name of activations) if (!weights.has(name) && name !== '') seen.add(name);
  }
  return [...seen];
}

/** Scale and zero point of an asymmetric uint8 activation over `range` (which is widened to hold 0, as ONNX requires). */
export function uint8Params(range: ActivationRange): { scale: number; zeroPoint: number } {
  const min = Math.min(0, range.min);
  const max = Math.max(0, range.max);
  const scale = max > min ? (max - min) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-min / scale))) };
}

/**
 * Writes the QDQ int8 model of an fp32 export of this package: per-channel symmetric int8
 * convolution weights (scale = max |w| / 127 per output channel, zero point 0), int32 biases (scale = input
 * scale × weight scale, as the int8 kernels accumulate), and a QuantizeLinear →
 * DequantizeLinear pair (uint8, asymmetric) on every activation `qdqCalibrationTensors` names,
 * with the calibrated ranges. MaxPool's output keeps its input's parameters (max commutes with
 * the quantization, so onnxruntime runs it on uint8). Graph outputs stay float.
 * `weightBits` 7 keeps the weights in [-63, 63] (onnxruntime's `reduce_range`): a CPU without VNNI
 * multiplies uint8 by int8 in pairs summed into int16 (AVX2's vpmaddubsw), which saturates with
 * 8-bit weights and large activations; 7 bits cannot.
 */
export function writeQdqInt8(fp32Bytes: Uint8Array, ranges: ReadonlyMap<string, ActivationRange>, weightBits: WeightBits = 8): Uint8Array {
  const model = foldedGraph(fp32Bytes);
  const graph = model.graph;
  const names = qdqCalibrationTensors(fp32Bytes);
  const params = new Map<string, { scale: number; zeroPoint: number }>();
  for (const node of graph.node) {
    // Graph order: a MaxPool's input has its parameters before its output is reached.
    for (const name of node.opType === 'Add' ? node.input : node.input.slice(0, 1)) {
      if (!names.includes(name) || params.has(name)) continue;
      const range = ranges.get(name);
      if (!range) throw new Error(`int8: no calibrated range for the activation '${name}'`);
      params.set(name, uint8Params(range));
    }
    if (node.opType === 'MaxPool' && params.has(node.input[0]!)) params.set(node.output[0]!, params.get(node.input[0]!)!);
  }
  const writer = new QdqWriter(graph.initializer, weightBits);
  const nodes: NodeProto[] = [];
  for (const name of names) if (!graph.node.some((n) => n.output.includes(name))) nodes.push(...writer.activation(name, params.get(name)!));
  for (const node of graph.node) {
    if (QUANTIZED_OPS.has(node.opType!)) {
      const inputs = node.opType === 'Add' ? [0, 1] : [0];
      for (const i of inputs) if (params.has(node.input[i]!)) node.input[i] = `${node.input[i]}/dequantized`;
      if (WEIGHT_AXIS[node.opType!] !== undefined) nodes.push(...writer.weights(node, WEIGHT_AXIS[node.opType!]!, params.get(node.input[0]!.replace(/\/dequantized$/, ''))!.scale));
    }
    nodes.push(node);
    for (const output of node.output) if (params.has(output)) nodes.push(...writer.activation(output, params.get(output)!));
  }
  graph.node = nodes;
  graph.initializer = writer.initializers();
  model.docString = `${model.docString ?? ''} int8 QDQ: per-channel symmetric int8 weights, uint8 activations from calibration.`.trim();
  return onnx.ModelProto.encode(model as InstanceType<typeof onnx.ModelProto>).finish();
}

/** Builds the Q/DQ nodes and quantized initializers, replacing each float weight it quantizes. */
class QdqWriter {
  private readonly byName: Map<string, TensorProto>;
  private readonly added: TensorProto[] = [];
  private readonly replaced = new Set<string>();

  constructor(initializers: readonly TensorProto[], private readonly weightBits: WeightBits) {
    this.byName = new Map(initializers.map((t) => [t.name!, t]));
  }

  initializers(): TensorProto[] {
    return [...[...this.byName.values()].filter((t) => !this.replaced.has(t.name!)), ...this.added];
  }

  /** `name` → QuantizeLinear → DequantizeLinear → `name/dequantized`. */
  activation(name: string, p: { scale: number; zeroPoint: number }): NodeProto[] {
    const scale = this.add(`${name}/scale`, onnx.TensorProto.DataType.FLOAT, [], new Uint8Array(new Float32Array([p.scale]).buffer));
    const zero = this.add(`${name}/zero_point`, onnx.TensorProto.DataType.UINT8, [], new Uint8Array([p.zeroPoint]));
    return [
      makeNode({ opType: 'QuantizeLinear', input: [name, scale, zero], output: [`${name}/quantized`], name: `${name}/QuantizeLinear` }),
      makeNode({ opType: 'DequantizeLinear', input: [`${name}/quantized`, scale, zero], output: [`${name}/dequantized`], name: `${name}/DequantizeLinear` }),
    ];
  }

  /** The node's weight (input 1) as per-channel int8 on `axis`, and its bias (input 2) as int32; returns their DequantizeLinear nodes. */
  weights(node: NodeProto, axis: number, inputScale: number): NodeProto[] {
    const weight = this.float(node.input[1]!);
    const channels = weight.dims[axis]!;
    const { values, scales } = quantizePerChannel(weight.values, weight.dims, axis, this.weightBits);
    const nodes = [this.dequantized(node, 1, onnx.TensorProto.DataType.INT8, weight.dims, new Uint8Array(values.buffer), scales, new Uint8Array(channels), axis)];
    if (node.input[2]) {
      const bias = this.float(node.input[2]);
      const biasScales = scales.map((s) => s * inputScale);
      const quantized = Int32Array.from(bias.values, (b, c) => clampInt32(Math.round(b / biasScales[c]!)));
      nodes.push(this.dequantized(node, 2, onnx.TensorProto.DataType.INT32, bias.dims, new Uint8Array(quantized.buffer), biasScales, new Uint8Array(4 * channels), 0));
    }
    return nodes;
  }

  private dequantized(node: NodeProto, input: number, type: number, dims: number[], raw: Uint8Array, scales: Float32Array, zeros: Uint8Array, axis: number): NodeProto {
    const name = node.input[input]!;
    this.replaced.add(name);
    const q = this.add(`${name}/quantized`, type, dims, raw);
    const scale = this.add(`${name}/scale`, onnx.TensorProto.DataType.FLOAT, [scales.length], new Uint8Array(scales.buffer));
    const zero = this.add(`${name}/zero_point`, type, [scales.length], zeros);
    node.input[input] = `${name}/dequantized`;
    return makeNode({
      opType: 'DequantizeLinear', input: [q, scale, zero], output: [`${name}/dequantized`], name: `${name}/DequantizeLinear`,
      attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis })],
    });
  }

  private float(name: string): { dims: number[]; values: Float32Array } {
    const t = this.byName.get(name);
    if (!t || t.dataType !== onnx.TensorProto.DataType.FLOAT || !t.rawData) throw new Error(`int8: '${name}' is not a float initializer with raw data`);
    const raw = t.rawData;
    const copy = new Uint8Array(raw.byteLength);
    copy.set(raw);
    return { dims: t.dims.map(Number), values: new Float32Array(copy.buffer) };
  }

  private add(name: string, dataType: number, dims: number[], rawData: Uint8Array): string {
    this.added.push(onnx.TensorProto.create({ name, dataType, dims, rawData }));
    return name;
  }
}

/** Bits of an int8 model's weights: 8 ([-127, 127]), or 7 ([-63, 63]) for CPUs whose int8 kernels sum pairs of products in int16 (see writeQdqInt8). */
export type WeightBits = 7 | 8;

/** Symmetric int8 per channel along `axis`: scale = max |w| / 127 (1 for an all-zero channel), values in [-127, 127]; with 7 bits, / 63 and [-63, 63]. */
export function quantizePerChannel(values: Float32Array, dims: readonly number[], axis: number, bits: WeightBits = 8): { values: Int8Array; scales: Float32Array } {
  const top = bits === 7 ? 63 : 127;
  const channels = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, d) => a * d, 1);
  const channelOf = (i: number): number => Math.floor(i / inner) % channels;
  const absMax = new Float32Array(channels);
  for (let i = 0; i < values.length; i++) absMax[channelOf(i)] = Math.max(absMax[channelOf(i)]!, Math.abs(values[i]!));
  const scales = Float32Array.from(absMax, (m) => (m > 0 ? m / top : 1));
  const out = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.max(-top, Math.min(top, Math.round(values[i]! / scales[channelOf(i)]!)));
  return { values: out, scales };
}

const makeNode = (fields: Record<string, unknown>): NodeProto => onnx.NodeProto.create(fields) as NodeProto;
const clampInt32 = (x: number): number => Math.max(-2147483648, Math.min(2147483647, x));
