import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { decideDevice, detectCuda } from './cuda-device.js';

const dir = mkdtempSync(join(tmpdir(), 'xception-cuda-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake nvidia-smi in its own folder, the only thing on PATH. */
function fakeNvidiaSmi(name: string, script: string): NodeJS.ProcessEnv {
  const bin = join(dir, name);
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(bin);
  writeFileSync(join(bin, 'nvidia-smi'), `#!/bin/sh\n${script}\n`);
  chmodSync(join(bin, 'nvidia-smi'), 0o755);
  return { PATH: bin };
}
const require = createRequire(import.meta.url);
// Where onnxruntime-node keeps its libraries, found here independently of the code under test.
const ortBin = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
const providerHere = existsSync(join(ortBin, 'libonnxruntime_providers_cuda.so'));

describe('GPU detection (a fake nvidia-smi on PATH)', () => {
  test("no nvidia-smi: no GPU, and device: 'cuda' names the missing driver", async () => {
    const cuda = await detectCuda({ PATH: join(dir, 'nothing-here') });
    expect(cuda.gpus).toBeNull();
    expect(cuda.driverNote).toContain('nvidia-smi not found on PATH');
    expect(() => decideDevice('cuda', 'auto', cuda)).toThrow(/device: 'cuda': no NVIDIA GPU here: nvidia-smi not found on PATH.*device: 'cpu'/);
    expect(decideDevice('auto', 'auto', cuda)).toEqual({ device: 'cpu', warning: null });
  });

  test('a GPU but no CUDA provider: cuda refused naming the library and the install command; auto warns in one line', async () => {
    const cuda = await detectCuda(fakeNvidiaSmi('h200', 'echo "NVIDIA H200, 550.54.15"'));
    expect(cuda.gpus).toEqual(['NVIDIA H200, driver 550.54.15']);
    expect(cuda.providerDir).toBe(ortBin);
    expect(cuda.providerInstalled).toBe(providerHere);
    expect(cuda.installCommand).toBe(`node ${join(ortBin, '..', '..', '..', '..', 'script', 'install.js')} --onnxruntime-node-install=cuda12`);
    if (providerHere) return; // a GPU server with the provider: nothing is missing
    expect(() => decideDevice('cuda', 'onnx', cuda)).toThrow(`device: 'cuda': onnxruntime's CUDA provider (libonnxruntime_providers_cuda.so in ${ortBin}) is missing; install it with: ${cuda.installCommand}`);
    const auto = decideDevice('auto', 'auto', cuda);
    expect(auto.device).toBe('cpu');
    expect(auto.warning).toMatch(/^warning: NVIDIA H200, driver 550\.54\.15 found but onnxruntime's CUDA provider \(libonnxruntime_providers_cuda\.so\) is not installed, so this runs on the CPU; install it with: node /);
    expect(auto.warning).not.toContain('\n');
    expect(decideDevice('auto', 'wasm', cuda)).toEqual({ device: 'cpu', warning: null }); // wasm never uses the GPU: nothing to warn about
    expect(decideDevice('cpu', 'auto', cuda)).toEqual({ device: 'cpu', warning: null });
  });

  test('a GPU and the provider: auto and cuda take the GPU; cuda with the wasm engine is a usage error', async () => {
    const cuda = { ...(await detectCuda(fakeNvidiaSmi('h200b', 'echo "NVIDIA H200, 550.54.15"'))), providerInstalled: true };
    expect(decideDevice('auto', 'auto', cuda)).toEqual({ device: 'cuda', warning: null });
    expect(decideDevice('cuda', 'onnx', cuda)).toEqual({ device: 'cuda', warning: null });
    expect(() => decideDevice('cuda', 'wasm', cuda)).toThrow("device: 'cuda' runs on engine: 'onnx' (or auto), not engine: 'wasm'.");
  });

  test('nvidia-smi that cannot reach the driver, or lists no GPU', async () => {
    const broken = await detectCuda(fakeNvidiaSmi('broken', 'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver." >&2; exit 9'));
    expect(broken.gpus).toBeNull();
    expect(broken.driverNote).toMatch(/^nvidia-smi failed/);
    expect(() => decideDevice('cuda', 'auto', broken)).toThrow(/no NVIDIA GPU here: nvidia-smi failed/);
    const none = await detectCuda(fakeNvidiaSmi('none', 'exit 0'));
    expect(none.gpus).toEqual([]);
    expect(() => decideDevice('cuda', 'auto', none)).toThrow(/nvidia-smi lists no GPU/);
  });
});
