/** A request refused: the HTTP status and one sentence for whoever sent it (the body of the answer). */
export class HttpRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}
