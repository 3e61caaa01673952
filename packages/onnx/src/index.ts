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
export { qdqCalibrationTensors, quantizePerChannel, uint8Params, writeQdqInt8, type ActivationRange, type WeightBits } from './qdq-int8.js';
export { CALIBRATION_METHODS, RangeCollector, type CalibrationMethod } from './activation-ranges.js';
export {
  calibrateInt8,
  compareOutputs,
  cosineOf,
  HOLD_OUT_EVERY,
  topK,
  type CalibrationImages,
  type Int8Agreement,
  type Int8Calibration,
  type OrtForCalibration,
} from './calibrate-int8.js';
