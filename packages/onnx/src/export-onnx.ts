import {
  compileFusedPlan,
  describeXception,
  featureMapSize,
  kerasInitialWeights,
  resolveXceptionConfig,
  weightSpecsOf,
  type CreateXceptionOptions,
  type FoldedWeight,
  type FusedPlan,
  type FusedStep,
  type GraphDescription,
  type WeightValues,
  type XceptionConfig,
} from '@xception/core';
import onnxProto from 'onnx-proto';
import { ONNX_IO } from './onnx-io.js';

const { onnx } = onnxProto;

/** The opset the exported graph declares (ai.onnx). 13: Softmax over one axis, Gemm, SAME_UPPER. */
export const ONNX_OPSET = 13;
/** IR version 7 is the first that opset 13 may use; every onnxruntime since 1.6 reads it. */
export const ONNX_IR_VERSION = 7;

/** Names of the graph's inputs and outputs (onnx-io.ts). */
export { ONNX_IO };

export interface ExportOnnxOptions {
  /** Free text stored in the model's doc string (a weights file name, say). */
  docString?: string;
}

/** What an export produced: the protobuf bytes and what they hold. */
export interface OnnxExport {
  readonly bytes: Uint8Array;
  readonly config: XceptionConfig;
  /** Output shape, null for a dynamic dimension (always the batch). */
  readonly outputShape: readonly (number | null)[];
  readonly opset: number;
  /** ONNX node count by op type, for checks and logs. */
  readonly opCounts: Readonly<Record<string, number>>;
}

/**
 * Exports an Xception to ONNX from the options @xception/core takes and Keras-named weights
 * (null: Keras' initialisers, seeded as createXceptionFromValues seeds them). The graph comes
 * from describeXception and compileFusedPlan, the same description and BatchNorm folding the
 * tfjs executor runs: this file maps each fused step to ONNX nodes and spells out no network.
 */
export function exportXceptionOnnx(options: CreateXceptionOptions, values: WeightValues | null, exportOptions: ExportOnnxOptions = {}): OnnxExport {
  const config = resolveXceptionConfig({
    ...options,
    weights: options.weights !== undefined ? options.weights : values ? 'weight-map' : null,
  });
  const graph = describeXception(config);
  const weights = values ?? kerasInitialWeights(weightSpecsOf(graph), options.seed ?? 0);
  return exportOnnx(graph, compileFusedPlan(graph, weights), config, exportOptions);
}

type Dim = number | string;
type NodeProto = InstanceType<typeof onnx.NodeProto>;
type AttributeProto = InstanceType<typeof onnx.AttributeProto>;

/** The ONNX graph as it is built: nodes, initializers and each plan tensor's name and rank. */
class OnnxGraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  readonly opCounts: Record<string, number> = {};
  private readonly names = new Map<string, string>();
  private readonly ranks = new Map<string, 2 | 4>();

  node(opType: string, inputs: string[], output: string, attributes: AttributeProto[] = [], name = output): string {
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [output], name, attribute: attributes }));
    this.opCounts[opType] = (this.opCounts[opType] ?? 0) + 1;
    return output;
  }

  initializer(name: string, dims: number[], values: Float32Array): string {
    // raw_data is little-endian float32; copy so that the model owns its bytes.
    const raw = new Uint8Array(values.byteLength);
    raw.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    if (!littleEndian) swapBytes32(raw);
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw }));
    return name;
  }

  /** Records the ONNX tensor that holds a plan tensor, and its rank. */
  define(planName: string, onnxName: string, rank: 2 | 4): void {
    this.names.set(planName, onnxName);
    this.ranks.set(planName, rank);
  }

  tensor(planName: string): string {
    const t = this.names.get(planName);
    if (t === undefined) throw new Error(`ONNX export: step input '${planName}' is produced by no earlier step`);
    return t;
  }

  rankOf(planName: string): 2 | 4 | undefined {
    return this.ranks.get(planName);
  }

  /** One fused step as ONNX nodes; returns the tensor that holds its output. */
  addStep(step: FusedStep): string {
    switch (step.kind) {
      case 'conv2d': {
        const [kh, kw, cin, cout] = step.kernel.shape as [number, number, number, number];
        const inputs = [this.tensor(step.input), this.initializer(`${step.output}/kernel`, [cout, cin, kh, kw], hwioToOihw(step.kernel))];
        if (step.bias) inputs.push(this.initializer(`${step.output}/bias`, [cout], step.bias.values));
        const conv = this.node('Conv', inputs, step.relu ? `${step.output}/conv` : step.output, convAttributes(kh, kw, step.strides, step.padding, 1));
        return step.relu ? this.node('Relu', [conv], step.output) : conv;
      }
      case 'depthwiseConv2d': {
        const [kh, kw, channels, multiplier] = step.kernel.shape as [number, number, number, number];
        if (multiplier !== 1) throw new Error(`ONNX export: depthwise multiplier ${multiplier} (Xception uses 1)`);
        const w = this.initializer(`${step.output}/kernel`, [channels, 1, kh, kw], hwioToOihw({ shape: [kh, kw, 1, channels], values: step.kernel.values }));
        return this.node('Conv', [this.tensor(step.input), w], step.output, convAttributes(kh, kw, step.strides, step.padding, channels));
      }
      case 'relu':
        return this.node('Relu', [this.tensor(step.input)], step.output);
      case 'maxPool':
        return this.node('MaxPool', [this.tensor(step.input)], step.output, [
          ints('kernel_shape', [step.poolSize, step.poolSize]), ints('strides', [step.strides, step.strides]), ...padAttributes(step.padding),
        ]);
      case 'add':
        return this.node('Add', [this.tensor(step.inputs[0]), this.tensor(step.inputs[1])], step.output);
      case 'globalAvgPool':
      case 'globalMaxPool': {
        const pooled = this.node(step.kind === 'globalAvgPool' ? 'GlobalAveragePool' : 'GlobalMaxPool', [this.tensor(step.input)], `${step.output}/nc11`);
        return this.node('Flatten', [pooled], step.output, [int('axis', 1)]);
      }
      case 'dense':
        return this.addDense(step);
    }
  }

  private addDense(step: FusedStep & { kind: 'dense' }): string {
    const [inputs, units] = step.kernel.shape as [number, number];
    const w = this.initializer(`${step.output}/kernel`, [inputs, units], step.kernel.values);
    const b = this.initializer(`${step.output}/bias`, [units], step.bias.values);
    const logits = this.node('Gemm', [this.tensor(step.input), w, b], step.activation ? `${step.output}/logits` : step.output);
    if (step.activation === 'softmax') return this.node('Softmax', [logits], step.output, [int('axis', -1)]);
    if (step.activation === 'sigmoid') return this.node('Sigmoid', [logits], step.output);
    return logits;
  }
}

/**
 * Maps a compiled plan to an ONNX model. NHWC in (a Transpose to NCHW first), NCHW inside, the
 * 4D output back to NHWC. TensorFlow's SAME padding (the extra row and column at the bottom and
 * right) is auto_pad SAME_UPPER, which also holds for sizes only known at run time.
 */
export function exportOnnx(graph: GraphDescription, plan: FusedPlan, config: XceptionConfig, exportOptions: ExportOnnxOptions = {}): OnnxExport {
  const builder = new OnnxGraphBuilder();
  const [height, width] = config.inputShape;
  const inputDims: Dim[] = ['N', height ?? 'height', width ?? 'width', 3];
  builder.define(plan.input, builder.node('Transpose', [ONNX_IO.input], `${plan.input}/nchw`, [ints('perm', [0, 3, 1, 2])]), 4);
  for (const step of plan.steps) {
    builder.define(step.output, builder.addStep(step), step.kind === 'dense' || step.kind === 'globalAvgPool' || step.kind === 'globalMaxPool' ? 2 : 4);
  }

  // Outputs under fixed names: the 4D map goes back to channels last.
  const outputRank = builder.rankOf(plan.output);
  if (outputRank === 4) builder.node('Transpose', [builder.tensor(plan.output)], ONNX_IO.output, [ints('perm', [0, 2, 3, 1])], 'output/nhwc');
  else builder.node('Identity', [builder.tensor(plan.output)], ONNX_IO.output);
  builder.node('Identity', [builder.tensor(plan.pooledFeatures)], ONNX_IO.features);

  const side = (s: number | null, name: string): Dim => (s === null ? name : featureMapSize(s));
  const outputDims: Dim[] = outputRank === 4
    ? ['N', side(height, 'out_height'), side(width, 'out_width'), 2048]
    : ['N', channelsOf(graph, graph.output)];
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: ONNX_OPSET })],
    producerName: '@xception/onnx',
    producerVersion: '0.1.0',
    docString: `Keras Xception (${describeConfig(config)}), BatchNorm folded; NHWC float32 input in [-1, 1].${exportOptions.docString ? ` ${exportOptions.docString}` : ''}`,
    graph: onnx.GraphProto.create({
      name: 'xception',
      node: builder.nodes,
      initializer: builder.initializers,
      input: [valueInfo(ONNX_IO.input, inputDims)],
      output: [valueInfo(ONNX_IO.output, outputDims), valueInfo(ONNX_IO.features, ['N', 2048])],
    }),
  });
  const bytes = onnx.ModelProto.encode(model).finish();
  return { bytes, config, outputShape: outputDims.map((d) => (typeof d === 'number' ? d : null)), opset: ONNX_OPSET, opCounts: builder.opCounts };
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapBytes32(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 4) {
    const a = bytes[i]!, b = bytes[i + 1]!;
    bytes[i] = bytes[i + 3]!; bytes[i + 1] = bytes[i + 2]!; bytes[i + 2] = b; bytes[i + 3] = a;
  }
}

/** Keras' HWIO kernel to ONNX's OIHW. */
export function hwioToOihw(kernel: FoldedWeight): Float32Array {
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  const src = kernel.values;
  const out = new Float32Array(src.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        const from = ((y * kw + x) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = src[from + o]!;
      }
    }
  }
  return out;
}

function convAttributes(kh: number, kw: number, strides: number, padding: 'valid' | 'same', group: number): InstanceType<typeof onnx.AttributeProto>[] {
  return [
    ints('kernel_shape', [kh, kw]), ints('strides', [strides, strides]), ints('dilations', [1, 1]), int('group', group),
    ...padAttributes(padding),
  ];
}

function padAttributes(padding: 'valid' | 'same'): InstanceType<typeof onnx.AttributeProto>[] {
  // TensorFlow's SAME puts the odd pixel at the end: ONNX's SAME_UPPER.
  return padding === 'same' ? [str('auto_pad', 'SAME_UPPER')] : [ints('pads', [0, 0, 0, 0])];
}

function int(name: string, i: number): InstanceType<typeof onnx.AttributeProto> {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });
}
function ints(name: string, values: number[]): InstanceType<typeof onnx.AttributeProto> {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
}
function str(name: string, s: string): InstanceType<typeof onnx.AttributeProto> {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(s) });
}

function valueInfo(name: string, dims: Dim[]): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        }),
      }),
    }),
  });
}

function channelsOf(graph: GraphDescription, name: string): number {
  const n = graph.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`ONNX export: no node '${name}' in the graph description`);
  return n.channels;
}


function describeConfig(c: XceptionConfig): string {
  const [h, w] = c.inputShape;
  const size = `${h ?? '?'}x${w ?? '?'}`;
  return c.includeTop ? `${size}, top with ${c.classes} classes, ${c.classifierActivation ?? 'logits'}` : `${size}, no top, pooling ${c.pooling ?? 'none'}`;
}
