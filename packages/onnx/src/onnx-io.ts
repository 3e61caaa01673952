// No imports: the inference threads read these names without loading the exporter (protobufjs).
/** Names of the graph's inputs and outputs, the same in every exported file. */
export const ONNX_IO = {
  /** float32 [N, height, width, 3], channels last, preprocessed to [-1, 1] (as every engine takes). */
  input: 'images',
  /** The model's output: [N, classes] with a top, [N, 2048] with pooling, else [N, h, w, 2048] (NHWC). */
  output: 'output',
  /** The pooled 2048-d features, [N, 2048] (average-pooled unless pooling is 'max'). */
  features: 'features',
} as const;
