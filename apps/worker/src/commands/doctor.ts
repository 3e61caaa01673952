import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { canDecodeHeic } from '@xception/vision-utils/node';
import { defaultCacheDir, imagenetWeightsPath } from '@xception/weights';
import { EXIT } from '../cli-error.js';
import { CUDA_PROVIDER_LIBRARY, detectCuda } from '@xception/runtime';
import { createOnnxEngine, createWasmPoolEngine, DISABLE_ONNX_ENV, int8WeightBitsForThisCpu, probeOnnxRuntime, probeTfjsNode } from '@xception/engines';

/**
 * What onnxruntime's int8 kernels have on this CPU. VNNI (AVX-512 VNNI or AVX-VNNI on x86, the
 * dot-product instructions on Arm) multiplies int8 in one instruction: the fast path. An x86 CPU
 * with AVX2 but no VNNI runs it on AVX2's kernels, with the weights' bits int8WeightBitsForThisCpu
 * gives there (7): still measured faster than fp32 end to end, by less (the worker README's int8
 * figures). Without either, int8 has not been measured. fp32 stays the default everywhere.
 */
export function int8Line(cpuinfo: string | null = readCpuinfo()): string {
  const flags = new Set((/^(flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo ?? '')?.[2] ?? '').split(/\s+/));
  const fast = ['avx512_vnni', 'avx_vnni', 'asimddp'].filter((f) => flags.has(f));
  if (cpuinfo === null) return 'int8 (--precision int8): unknown (no /proc/cpuinfo to read the CPU flags from)';
  if (fast.length > 0) return `int8 (--precision int8): yes, a fast int8 path (${fast.join(', ')}); calibrate with xception quantize --calibrate DIR`;
  // The bits are the quantizer's own choice for this CPU, so that the two never disagree.
  if (flags.has('avx2')) return `int8 (--precision int8): yes, without VNNI (avx2; int8 models get ${int8WeightBitsForThisCpu(cpuinfo)}-bit weights on this CPU): faster than fp32, by less than on a VNNI CPU; calibrate with xception quantize --calibrate DIR`;
  return 'int8 (--precision int8): no fast int8 path on this CPU (no VNNI / avx512_vnni / avx_vnni, no avx2 flag); int8 runs but is unmeasured on such CPUs: keep --precision fp32 unless a run here shows it faster';
}

function readCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}

/** One finding of doctor: a line of text, or an entry of `doctor --json`. */
interface Finding { check: string; ok: boolean | null; detail: string }

/** What runs here: engines that load, decoders, the GPU, cached weights. Exit 0 when classify can run. */
export async function doctorCommand(print: (line: string) => void, options: { json?: boolean } = {}): Promise<number> {
  const findings: Finding[] = [];
  // Each text line is also a finding: its check is the words before the first colon.
  const log = (line: string, ok: boolean | null = null): void => {
    const check = /^\s*([^:]+):/.exec(line)?.[1]?.trim() ?? 'info';
    findings.push({ check, ok: ok ?? (/: no\b/.test(line) ? false : /: yes\b/.test(line) ? true : null), detail: line.trim() });
    if (!options.json) print(line);
  };
  log(`node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'})`);
  const onnxProbe = await probeOnnxRuntime();
  let onnx = false;
  if (onnxProbe.available) {
    try {
      const engine = await createOnnxEngine({ model: { includeTop: false, pooling: 'avg', inputShape: [71, 71, 3], weights: null }, weights: null, threads: 1 }, onnxProbe);
      const r = await engine.run({ pixels: new Uint8Array(71 * 71 * 3), count: 1, height: 71, width: 71 });
      onnx = r.features.length === 2048;
      await engine.dispose();
      log(`engine onnx: yes (${onnxProbe.detail}; execution providers ${onnxProbe.providers.join(', ')}; first in --engine auto)`);
    } catch (error) {
      log(`engine onnx: no: onnxruntime-node loaded but a session failed: ${(error as Error).message.split('\n')[0]}`);
    }
  } else {
    log(`engine onnx: no: ${onnxProbe.detail}${onnxProbe.detail.startsWith(DISABLE_ONNX_ENV) ? '' : ` (${DISABLE_ONNX_ENV}=1 hides it on purpose)`}`);
  }
  log(int8Line());
  const tfjsNode = await probeTfjsNode();
  log(`engine tfjs-node: ${tfjsNode.available ? `yes (${tfjsNode.detail})` : `no: ${tfjsNode.detail}`}`);
  let wasm = false;
  try {
    const engine = await createWasmPoolEngine({ model: { includeTop: false, pooling: 'avg', inputShape: [71, 71, 3], weights: null }, weights: null, threads: 1 });
    const r = await engine.run({ pixels: new Uint8Array(71 * 71 * 3), count: 1, height: 71, width: 71 });
    wasm = r.features.length === 2048;
    await engine.dispose();
    log(`engine wasm: yes (worker threads with tfjs-backend-wasm; --threads defaults to ${availableParallelism()})`);
  } catch (error) {
    log(`engine wasm: no: ${(error as Error).message}`);
  }
  log('engine cpu: yes (pure JavaScript; about 30 s per 299x299 image, a last resort)');
  log(`images: sharp with JPEG, PNG, WebP, GIF, TIFF, AVIF${canDecodeHeic() ? ', HEIC' : '; HEIC not in this libvips build'}`);
  const cuda = await detectCuda();
  const gpu = cuda.gpus && cuda.gpus.length > 0 ? cuda.gpus.join('; ') : null;
  log(`gpu: ${gpu ? `yes (${gpu})` : `no (${cuda.driverNote ?? 'none'})`}`, gpu !== null);
  log(`onnxruntime cuda provider: ${cuda.providerInstalled ? `yes (${CUDA_PROVIDER_LIBRARY} in ${cuda.providerDir}; --device cuda can run)` : `no (install it with: ${cuda.installCommand})`}`, cuda.providerInstalled);
  const cache = defaultCacheDir();
  log(`weights cache: ${cache}${process.env.XCEPTION_HOME ? ' (XCEPTION_HOME)' : ''}`);
  for (const top of [true, false]) {
    const path = imagenetWeightsPath({ includeTop: top });
    log(`  imagenet ${top ? 'with top' : 'no top  '}: ${existsSync(path) ? `cached at ${path}` : `not downloaded ('xception weights fetch${top ? '' : ' --no-top'}')`}`);
  }
  const canRun = onnx || tfjsNode.available || wasm;
  if (options.json) print(JSON.stringify({ ok: canRun, node: process.version, findings }, null, 2));
  return canRun ? EXIT.ok : EXIT.error;
}
