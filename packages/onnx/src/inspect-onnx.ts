import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type ValueInfo = InstanceType<typeof onnx.ValueInfoProto>;

/** What an ONNX file declares, read back with the same protobuf code that wrote it. */
export interface OnnxModelSummary {
  readonly irVersion: number;
  /** ai.onnx opset. */
  readonly opset: number;
  readonly producer: string;
  /** Op types in graph order. */
  readonly ops: readonly string[];
  readonly inputs: ReadonlyArray<{ name: string; dims: Array<number | string> }>;
  readonly outputs: ReadonlyArray<{ name: string; dims: Array<number | string> }>;
  readonly initializers: number;
  /** Weights stored, summed over initialisers. */
  readonly parameters: number;
}

/** Decodes an ONNX model's header and graph structure (for tests, `doctor`, and people). */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModelSummary {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('not an ONNX model: no graph');
  const io = (list: readonly ValueInfo[] | null | undefined) => (list ?? []).map((v) => ({
    name: v.name ?? '',
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d: { dimParam?: string | null; dimValue?: unknown }) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0))),
  }));
  return {
    irVersion: Number(model.irVersion),
    opset: Number(model.opsetImport.find((o) => !o.domain)?.version ?? 0),
    producer: model.producerName ?? '',
    ops: (graph.node ?? []).map((n) => n.opType ?? ''),
    inputs: io(graph.input as ValueInfo[]),
    outputs: io(graph.output as ValueInfo[]),
    initializers: (graph.initializer ?? []).length,
    parameters: (graph.initializer ?? []).reduce((sum, t) => sum + (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1), 0),
  };
}
