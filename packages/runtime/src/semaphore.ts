/** A counting semaphore for bounding queues. */
export class Semaphore {
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  constructor(private free: number) {}

  async acquire(n = 1): Promise<void> {
    if (this.free >= n && this.waiters.length === 0) {
      this.free -= n;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push({ n, resolve }));
  }

  release(n = 1): void {
    this.free += n;
    while (this.waiters.length > 0 && this.free >= this.waiters[0]!.n) {
      const w = this.waiters.shift()!;
      this.free -= w.n;
      w.resolve();
    }
  }
}
