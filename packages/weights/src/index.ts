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
export { IMAGENET_REGISTRY, imagenetEntry, type WeightsRegistry, type WeightsRegistryEntry } from './imagenet-registry.js';
export { defaultCacheDir, imagenetWeightsPath, type ImagenetPathOptions } from './cache-dir.js';
export { fetchImagenetWeights, verifyWeightsFile, type FetchImagenetOptions, type WeightsVerification } from './imagenet-weights.js';
export { downloadFile, proxyFor, type DownloadOptions, type DownloadResult } from './download.js';
export { hashFile, sha256OfFile, type FileHashes } from './file-hashes.js';
export type { ProgressEvent, ProgressCallback } from './progress.js';
export { resolveWeightsSource, readWeights, type ResolvedWeightsSource, type ResolveSourceOptions, type WeightsFormat } from './weights-source.js';
export { loadXception, type LoadXceptionOptions } from './load-xception.js';
export { openClassifierWeights, readClassifierWeights, weightsModelId, type ClassifierWeightsReading, type DeferredWeightValues, type OpenedClassifierWeights } from './classifier-weights.js';
export { savedInputShape } from './saved-input-shape.js';
export { readKerasArchive, isKerasArchivePath, type KerasArchiveReading, type SavedXceptionConfig } from './keras-archive.js';
export { writeKerasArchive, writeKeras3Weights, keras3ModelConfig, KERAS3_VERSION, type WriteKeras3Options } from './keras3-writer.js';
export { keras3LayerOrder, keras3StorageKeys } from './keras3-layout.js';
export { convertWeights, type ConvertWeightsOptions, type ConvertWeightsReport } from './convert-weights.js';
