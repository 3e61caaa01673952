export {
  exportXceptionOnnx,
  exportOnnx,
  hwioToOihw,
  ONNX_IO,
  ONNX_OPSET,
  ONNX_IR_VERSION,
  type ExportOnnxOptions,
  type OnnxExport,
} from './export-onnx.js';
export { decodeOnnxModel, type OnnxModelSummary } from './inspect-onnx.js';
