/**
 * A small seeded generator (mulberry32) so that random initialisation and test weights are
 * reproducible across runs, machines and backends. Not for cryptography.
 */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = nextSeededState(state);
    return seededValue(state);
  };
}

/**
 * seededRandom's generator in two steps, for loops over millions of values: the caller keeps the
 * state in a local (`state = nextSeededState(state); x = seededValue(state)`), which V8 keeps in
 * a register, where a closure's captured state is a heap number allocated anew at every call
 * (seeded full-size Xception weights: ~1.3 s that way, ~0.2 s this way). Same sequence as seededRandom.
 */
export function nextSeededState(state: number): number {
  // Kept as int32 (`| 0`, where mulberry32's reference writes `>>> 0`): the same 32 bits, and V8
  // keeps an int32 unboxed where a uint32 above 2^31 falls back to a double.
  return (state + 0x6d2b79f5) | 0;
}

/** The value in [0, 1) of a state nextSeededState() gave. */
export function seededValue(state: number): number {
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
