/**
 * One photo's edits, one at a time: each change reads the record as the previous one left it,
 * writes the sidecar, then updates the index. Without this, two edits at once (two addTag
 * calls, a tag and a re-tag) both start from the same record and the later write loses the
 * other's tag. Photos apart run side by side.
 */
export class PhotoEditQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `edit` after the photo's earlier edits have settled (failed ones too). */
  run<T>(id: string, edit: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(id) ?? Promise.resolve();
    const next = previous.then(edit, edit);
    const settled = next.catch(() => undefined);
    this.tails.set(id, settled);
    void settled.then(() => {
      if (this.tails.get(id) === settled) this.tails.delete(id);
    });
    return next;
  }
}
