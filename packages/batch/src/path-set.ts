/**
 * A set of paths that holds ten million entries in about 160 MB: each path is kept as a 64-bit
 * hash (two independent 32-bit hashes) in an open-addressing table, not as a string. With 10^7
 * paths the chance that any two collide is about 3e-6. Used to skip finished work on resume.
 */
export class PathSet {
  private keys = new Uint32Array(2 * 1024);
  private used = 0;

  get size(): number {
    return this.used;
  }

  add(path: string): void {
    if ((this.used + 1) * 2 > this.keys.length / 2) this.grow();
    this.insert(...hash64(path));
  }

  has(path: string): boolean {
    const [a, b] = hash64(path);
    const mask = this.keys.length / 2 - 1;
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      const ka = this.keys[2 * slot]!;
      const kb = this.keys[2 * slot + 1]!;
      if (ka === 0 && kb === 0) return false;
      if (ka === a && kb === b) return true;
    }
  }

  private insert(a: number, b: number): void {
    const mask = this.keys.length / 2 - 1;
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      const ka = this.keys[2 * slot]!;
      const kb = this.keys[2 * slot + 1]!;
      if (ka === a && kb === b) return;
      if (ka === 0 && kb === 0) {
        this.keys[2 * slot] = a;
        this.keys[2 * slot + 1] = b;
        this.used++;
        return;
      }
    }
  }

  private grow(): void {
    const old = this.keys;
    this.keys = new Uint32Array(old.length * 2);
    this.used = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.insert(old[i]!, old[i + 1]!);
  }
}

/** Two 32-bit hashes of a string (cyrb53's mixing, two seeds); (0, 0) is reserved for empty. */
export function hash64(text: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const a = h1 >>> 0;
  const b = h2 >>> 0;
  return a === 0 && b === 0 ? [1, 0] : [a, b];
}
