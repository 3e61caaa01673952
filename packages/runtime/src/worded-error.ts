/**
 * A typed error whose one sentence names options, written once by whoever throws it and said
 * in the caller's words: `message` in the library's, describe() in a front door's (the CLI's
 * flags, the app's setting names). RuntimeError and @xception/training's TrainingError are these.
 */
export class WordedError<Code extends string, Option extends string, Words> extends Error {
  constructor(
    readonly code: Code,
    readonly option: Option,
    private readonly sentence: (words: Words) => string,
    libraryWords: Words,
    options: { cause?: unknown } = {},
  ) {
    super(sentence(libraryWords), options.cause === undefined ? undefined : { cause: options.cause });
  }

  /** One sentence, naming the options the way the caller's interface does. */
  describe(words: Words): string {
    return this.sentence(words);
  }
}
