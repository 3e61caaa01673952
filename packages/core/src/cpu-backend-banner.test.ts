import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
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

  // In a Node process of its own: vitest's workers are shared between test files, so tfjs in
  // this one may already have picked a backend for an earlier file.
  test('called before tfjs has picked a backend, the cpu backend it then uses makes tensors without the banner', () => {
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import '@tensorflow/tfjs-backend-cpu'; // registered, not yet picked
      import { silenceCpuBackendBanner } from ${JSON.stringify(pathToFileURL(fileURLToPath(new URL('./cpu-backend-banner.ts', import.meta.url))).href)};
      const picked = Object.keys(tf.engine().registry); // nothing picked yet: the desktop's tag teacher starts so
      await silenceCpuBackendBanner();
      const t = tf.tensor1d([1, 2, 3]);
      console.log(JSON.stringify({ picked, backend: tf.getBackend(), values: Array.from(await t.data()) }));
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) });
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout.trim().split('\n').pop()!)).toEqual({ picked: [], backend: 'cpu', values: [1, 2, 3] });
    expect(child.stdout + child.stderr).not.toMatch(banner);
  });
});
