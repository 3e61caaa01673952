import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { REPO, runCli } from '@xception/test-kit/worker-cli';

const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);
const FAST = ['--weights', 'none', '--image-size', '71', '--batch-size', '2', '--threads', '1', '--quiet'];

describe('CLI details a batch user hits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('--version prints the package version; --help lists the environment variables and the new flags', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'apps', 'worker', 'package.json'), 'utf8')) as { version: string };
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(version);
    const help = await runCli(['classify', '--help']);
    for (const word of ['XCEPTION_HOME', 'XCEPTION_DISABLE_ONNX', 'JOB_COMPLETION_INDEX', 'XCEPTION_SHARD_COUNT', 'SLURM_ARRAY_TASK_ID', 'UV_THREADPOOL_SIZE',
      '--decode-threads <n>', '--device <device>', '--wait-lock <seconds>', '--lock-stale <seconds>', '--retry-failed']) {
      expect(help.stdout).toContain(word);
    }
  }, 120_000);

  test('doctor --json: one JSON object naming the GPU and the CUDA provider checks', async () => {
    const run = await runCli(['doctor', '--json']);
    const report = JSON.parse(run.stdout) as { ok: boolean; findings: Array<{ check: string; ok: boolean | null; detail: string }> };
    expect(run.code).toBe(report.ok ? 0 : 1);
    const checks = report.findings.map((f) => f.check);
    expect(checks).toEqual(expect.arrayContaining(['engine onnx', 'engine wasm', 'gpu', 'onnxruntime cuda provider']));
    const provider = report.findings.find((f) => f.check === 'onnxruntime cuda provider')!;
    if (!provider.ok) expect(provider.detail).toContain('--onnxruntime-node-install=cuda12');
    // The int8 fast path, against grep's own reading of the CPU flags.
    const int8 = report.findings.find((f) => f.check === 'int8 (--precision int8)')!;
    const vnni = spawnSync('grep', ['-qwE', 'avx512_vnni|avx_vnni|asimddp', '/proc/cpuinfo']).status === 0;
    const avx2 = spawnSync('grep', ['-qw', 'avx2', '/proc/cpuinfo']).status === 0;
    expect(int8.ok).toBe(vnni || avx2);
    expect(int8.detail).toMatch(vnni ? /^int8 \(--precision int8\): yes, a fast int8 path \((avx512_vnni|avx_vnni|asimddp)/
      : avx2 ? /^int8 \(--precision int8\): yes, without VNNI \(avx2; int8 models get 7-bit weights on this CPU\)/ : /no fast int8 path on this CPU/);
  }, 120_000);

  test.skipIf(!photos)('--out - writes the rows to standard output and no file named -', async () => {
    const images = readdirSync(photos!).sort().slice(0, 3).map((f) => join(photos!, f));
    const run = await runCli(['classify', ...images, '--out', '-', ...FAST]);
    expect(run.code, run.stderr).toBe(0);
    const rows = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; top: unknown[] });
    expect(rows.map((r) => r.path).sort()).toEqual(images);
    expect(rows.every((r) => r.top.length === 5)).toBe(true);
    expect(existsSync(join(REPO, '-'))).toBe(false);
    expect(existsSync(join(REPO, '-.lock'))).toBe(false);
  }, 120_000);

  test.skipIf(!photos)('a weights mistake is told in flag words (--weights none, not the library\'s null)', async () => {
    const image = join(photos!, readdirSync(photos!).sort()[0]!);
    const missing = await runCli(['classify', image, '--out', join(dir, 'w', 'x.jsonl'), '--weights', join(dir, 'nope.h5')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`xception: The weights file ${join(dir, 'nope.h5')} does not exist; pass --weights imagenet, --weights none, or the path of a Keras .keras or .h5 file or a tfjs model.json.\n`);
    writeFileSync(join(dir, 'bad.json'), '{}');
    const bad = await runCli(['classify', image, '--out', join(dir, 'w', 'x.jsonl'), '--weights', join(dir, 'bad.json')]);
    expect(bad.stderr).toMatch(new RegExp(`^xception: --weights ${join(dir, 'bad.json')}: model\\.json has no weightsManifest`));
  }, 120_000);

  test.skipIf(!photos)('on a box whose nvidia-smi shows a GPU but without the CUDA provider: --device cuda refuses at start, auto warns once', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'nvidia-smi'), '#!/bin/sh\necho "NVIDIA H200, 550.54.15"\n');
    chmodSync(join(bin, 'nvidia-smi'), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
    const image = join(photos!, readdirSync(photos!).sort()[0]!);
    const cuda = await runCli(['classify', image, '--out', join(dir, 'gpu', 'cuda.jsonl'), ...FAST, '--device', 'cuda'], env);
    if (cuda.code === 0) return; // this machine has the CUDA provider: nothing to refuse
    expect(cuda.code).toBe(1);
    expect(cuda.stderr).toMatch(/^xception: --device cuda: onnxruntime's CUDA provider \(libonnxruntime_providers_cuda\.so in .*\) is missing; install it with: node .*install\.js --onnxruntime-node-install=cuda12\n$/);
    expect(existsSync(join(dir, 'gpu'))).toBe(false); // refused before anything was written, even the output folder
    const wasm = await runCli(['classify', image, '--out', join(dir, 'gpu', 'wasm.jsonl'), ...FAST, '--device', 'cuda', '--engine', 'wasm'], env);
    expect([wasm.code, wasm.stderr]).toEqual([2, 'xception: --device cuda runs on --engine onnx (or auto), not --engine wasm.\n']);
    const auto = await runCli(['classify', image, '--out', join(dir, 'auto.jsonl'), ...FAST], env);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr.split('\n').filter((l) => l.startsWith('warning: NVIDIA H200'))).toHaveLength(1);
  }, 180_000);
});
