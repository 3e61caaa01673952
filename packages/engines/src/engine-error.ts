import type { EngineChoice } from './engine.js';

/** 'ERR_ENGINE_UNAVAILABLE': the engine asked for by name cannot load or start here. */
export type EngineErrorCode = 'ERR_ENGINE_UNAVAILABLE';

/** How a front end names the engine option: `engine: 'onnx'` here, `--engine onnx` in the CLI. */
export type NameEngine = (engine: EngineChoice) => string;

/** This library's words: the option of selectEngine and of the front ends' settings. */
export const libraryWords: NameEngine = (engine) => `engine: '${engine}'`;

/**
 * A typed failure of engine selection. Its message speaks this library's words
 * (`engine: 'onnx' cannot load: …, or use engine: 'wasm'.`); a front end re-words it with
 * describe(), e.g. the CLI's `describe((e) => \`--engine ${e}\`)`.
 */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    /** The engine that was asked for. */
    readonly engine: EngineChoice,
    /** What went wrong, without naming the option: 'cannot load: onnxruntime-node is not installed'. */
    readonly reason: string,
    /** What to do instead, without the option: 'install onnxruntime-node (…)'. */
    readonly remedy: string,
    /** The engine that works everywhere, suggested last. */
    readonly alternative: EngineChoice | null = 'wasm',
  ) {
    super('');
    this.message = this.describe(libraryWords);
  }

  /** One sentence, naming engines the way the caller's interface does. */
  describe(name: NameEngine): string {
    const instead = [this.remedy, this.alternative ? `use ${name(this.alternative)}` : ''].filter(Boolean).join(', or ');
    return `${name(this.engine)} ${this.reason}${instead ? `; ${instead}` : ''}.`;
  }
}
