/**
 * @xception/weights in browsers (the package's `browser` condition, also `@xception/weights/browser`):
 * tfjs artifacts over fetch, the name mapping, the Keras topology and quantization. No Node
 * built-ins: HDF5 files, the download cache and writers are Node-only.
 */
export {
  WeightsFileError,
  WeightsDownloadError,
  type WeightsFileErrorCode,
  type WeightsDownloadErrorCode,
  type WeightsErrorDetails,
} from '../errors.js';
export type { ReadWeightsOptions, XceptionWeightsReading } from '../keras-h5.js';
export { mapToXception, type FileLayer, type FileWeight, type MappedWeights, type WeightValue } from '../xception-mapping.js';
export { kerasTopologyOf, type KerasModelTopology, type KerasLayerJson } from '../keras-topology.js';
export { quantizeWeight, type QuantizeDtype } from '../quantize.js';
export { IMAGENET_REGISTRY, imagenetEntry, type WeightsRegistry, type WeightsRegistryEntry } from '../imagenet-registry.js';
export type { ProgressEvent, ProgressCallback } from '../progress.js';
export { readTfjsArtifacts, type BrowserReadOptions } from './read-tfjs-artifacts.js';
export { loadXception, type LoadXceptionOptions } from './load-xception.js';
