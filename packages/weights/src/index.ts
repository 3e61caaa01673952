export {
  WeightsFileError,
  WeightsDownloadError,
  type WeightsFileErrorCode,
  type WeightsDownloadErrorCode,
  type WeightsErrorDetails,
} from './errors.js';
export { readKerasH5File, type KerasH5Contents, type KerasH5Layer, type KerasH5Weight } from './keras-h5-file.js';
export { readKerasH5, type ReadWeightsOptions, type XceptionWeightsReading } from './keras-h5.js';
export { mapToXception, type FileLayer, type FileWeight, type MappedWeights, type WeightValue } from './xception-mapping.js';
export { readTfjsArtifacts } from './tfjs-artifacts-reader.js';
export { writeTfjsArtifacts, SHARD_BYTES, type WriteTfjsArtifactsOptions, type TfjsArtifactsReport } from './tfjs-artifacts-writer.js';
export { kerasTopologyOf, type KerasModelTopology, type KerasLayerJson } from './keras-topology.js';
export { quantizeWeight, type QuantizeDtype } from './quantize.js';
