import { readFileSync } from 'node:fs';
import type { WeightBits } from '@xception/onnx';

/**
 * The weight bits int8 models are written with on this CPU (@xception/onnx's writeQdqInt8): 8,
 * unless it is an x86 CPU without VNNI (avx512_vnni, avx_vnni), where onnxruntime's uint8 x int8
 * kernels sum pairs of products in int16 and saturate with 8-bit weights: there 7, as
 * onnxruntime's own `reduce_range` advises. Where the flags cannot be read (not Linux), 8.
 */
export function int8WeightBitsForThisCpu(cpuinfo: string | null = readCpuinfo(), arch: string = process.arch): WeightBits {
  if ((arch !== 'x64' && arch !== 'ia32') || cpuinfo === null) return 8;
  const flags = new Set((/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '').trim().split(/\s+/));
  return flags.has('avx512_vnni') || flags.has('avx_vnni') ? 8 : 7;
}

function readCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}
