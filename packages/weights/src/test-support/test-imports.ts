/** The test helpers every test file here uses, from @xception/test-kit and @xception/core/testing plus a few of ours. */
export { sharedPath, SKIP_NO_SHARED, useBackend, maxAbsDiff, startStaticServer, deadPort, type StaticServer } from '@xception/test-kit';
export { saneRandomWeights, randomImages } from '@xception/core/testing';
import { seededRandom } from '@xception/core';

/** Seeded uniform [-1, 1) float32 values. */
export function seededValues(size: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = random() * 2 - 1;
  return out;
}

/** Bitwise equality of two float arrays (fast, and NaN-exact, unlike a deep equal). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
