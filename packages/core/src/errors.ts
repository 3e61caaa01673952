/**
 * Typed errors for everything a caller can get wrong. Each message is one sentence that says
 * what is wrong, where, and what to do, so that a CLI or app can show it without a stack trace.
 */

export type XceptionErrorCode =
  | 'ERR_XCEPTION_CONFIG'
  | 'ERR_XCEPTION_INPUT'
  | 'ERR_XCEPTION_WEIGHTS'
  | 'ERR_XCEPTION_DISPOSED';

export class XceptionError extends Error {
  readonly code: XceptionErrorCode;
  constructor(code: XceptionErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An argument to the Xception factory breaks one of Keras' rules. */
export class XceptionConfigError extends XceptionError {
  constructor(message: string) {
    super('ERR_XCEPTION_CONFIG', message);
  }
}

/** A tensor handed to predict() has the wrong rank, size, channel count or dtype. */
export class XceptionInputError extends XceptionError {
  constructor(message: string) {
    super('ERR_XCEPTION_INPUT', message);
  }
}

export interface WeightProblem {
  name: string;
  problem: 'missing' | 'unexpected' | 'shape' | 'non-finite';
  expectedShape?: readonly number[];
  actualShape?: readonly number[];
}

/** The weight map does not match the graph: every problem is listed, not only the first. */
export class XceptionWeightsError extends XceptionError {
  readonly problems: readonly WeightProblem[];
  constructor(message: string, problems: readonly WeightProblem[] = []) {
    super('ERR_XCEPTION_WEIGHTS', message);
    this.problems = problems;
  }
}

/** The model was used after dispose(). */
export class XceptionDisposedError extends XceptionError {
  constructor() {
    super('ERR_XCEPTION_DISPOSED', 'This Xception model has been disposed; create a new one with createXception().');
  }
}
