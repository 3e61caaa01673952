/** Exit codes, documented in the README and in `xception --help`. */
export const EXIT = {
  ok: 0,
  /** A fatal error: nothing or not everything could run (bad weights, unwritable output...). */
  error: 1,
  /** The command line is wrong. */
  usage: 2,
  /** The run finished, but some inputs failed (each has a row with its error). */
  partialFailure: 3,
} as const;

/** An error meant for a person: printed as one line, never with a stack trace. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly code: string;
  constructor(code: string, message: string, exitCode: number = EXIT.error) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
  }
}
