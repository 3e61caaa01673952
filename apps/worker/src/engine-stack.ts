/**
 * The one place where `xception tag` reaches the engine stack (selection and the choices).
 * The engines are moving to @xception/engines: at that merge only these lines change.
 */
export { selectEngine } from './engines/select-engine.js';
export { ENGINE_CHOICES, type EngineChoice, type EngineResult } from './engines/engine.js';
