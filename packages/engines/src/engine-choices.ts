/**
 * The engine names alone, importable without loading any engine (`@xception/engines/choices`):
 * a CLI's flag list and its `--help` need them, and loading the engines costs ~0.4 s.
 */

/**
 * Where inference runs. onnx (onnxruntime-node) and tfjs-node (native libtensorflow) are
 * found at run time; wasm and cpu always work.
 */
export type EngineName = 'onnx' | 'tfjs-node' | 'wasm' | 'cpu';
export type EngineChoice = 'auto' | EngineName;
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'tfjs-node', 'wasm', 'cpu', 'onnx'];

/** Where an onnx run goes: 'auto' takes an NVIDIA GPU when onnxruntime's CUDA provider is installed. */
export type DeviceChoice = 'auto' | 'cpu' | 'cuda';
export const DEVICE_CHOICES: readonly DeviceChoice[] = ['auto', 'cpu', 'cuda'];
