/**
 * @xception/runtime: Xception opened the same way for every front door (the CLI, the desktop
 * app, @xception/classifier), and the decode → batch → engine pipeline they run it with.
 */
export { modelIdOf, openModel, type Int8Summary, type OpenedModel, type OpenModelOptions } from './open-model.js';
export { decodeCalibrationPhotos, INT8_MIN_TOP1_AGREEMENT, openInt8Model, passesBound, PRECISION_CHOICES, refuseBelowBound, type CalibrationSource, type Int8Options, type Precision } from './int8-model.js';
export { readWeightValues } from './read-weight-values.js';
export { checkImageSize, IMAGENET_SIZE } from './model-rules.js';
export { WordedError } from './worded-error.js';
export { libraryWords, reasonOf, RuntimeError, type OptionWords, type RuntimeErrorCode, type RuntimeOption } from './runtime-error.js';
export { decodeInput, runBatch, runImagePipeline, type DecodedInput, type FailedInput, type PipelineCounts, type PipelineInput, type PipelineOptions, type PipelineSummary } from './image-pipeline.js';
export { Semaphore } from './semaphore.js';
export { CUDA_PROVIDER_LIBRARY, decideDevice, detectCuda, NO_CUDA, type CudaDetection, type DeviceChoice, type DeviceDecision } from './cuda-device.js';
export { DEVICE_CHOICES, ENGINE_CHOICES, type EngineChoice, type EngineResult, type InferenceEngine } from '@xception/engines';
