import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { silenceCpuBackendBanner } from './cpu-backend-banner.js';

const banner = /looks like you are running TensorFlow\.js in Node\.js/;
const warned = (spy: { mock: { calls: unknown[][] } }): boolean => spy.mock.calls.some((args) => banner.test(args.map(String).join(' ')));

describe('silenceCpuBackendBanner', () => {
  afterEach(() => vi.restoreAllMocks());

  test("tfjs' cpu backend prints its Node banner on a fresh backend's first tensor (what we silence)", () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const fresh = new MathBackendCPU();
    fresh.write(new Float32Array([1]), [1], 'float32');
    fresh.dispose();
    expect(warned(warn)).toBe(true);
  });

  test('called before tfjs has picked a backend, the cpu backend it then uses makes tensors without the banner', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(Object.keys(tf.engine().registry)).toEqual([]); // nothing picked yet: the desktop's tag teacher starts so
    await silenceCpuBackendBanner();
    const t = tf.tensor1d([1, 2, 3]);
    expect(tf.getBackend()).toBe('cpu');
    expect(Array.from(await t.data())).toEqual([1, 2, 3]);
    t.dispose();
    expect(warned(warn)).toBe(false);
  });
});
