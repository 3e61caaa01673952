import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { onnxRuntimeInstallDir } from '@xception/engines';
import type { DeviceChoice } from '@xception/engines/choices';
import { RuntimeError } from './runtime-error.js';

export type { DeviceChoice };

/** What this machine offers a GPU run: an NVIDIA driver (seen through nvidia-smi) and onnxruntime's CUDA provider. */
export interface CudaDetection {
  /** GPUs nvidia-smi lists ("NVIDIA H200, driver 550.54"), [] when it runs but lists none; null when it is absent or fails. */
  gpus: string[] | null;
  /** Why nvidia-smi gave nothing, for messages. */
  driverNote: string | null;
  /** Where onnxruntime-node keeps its native libraries (the CUDA provider goes there). */
  providerDir: string | null;
  providerInstalled: boolean;
  /** The one command that installs onnxruntime's CUDA provider (CUDA 12) into this install. */
  installCommand: string;
}

/** device 'cpu' skips the detection (no nvidia-smi call). */
export const NO_CUDA: CudaDetection = { gpus: null, driverNote: null, providerDir: null, providerInstalled: false, installCommand: '' };

export const CUDA_PROVIDER_LIBRARY = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';

/** Looks for nvidia-smi on env.PATH and for the CUDA provider beside onnxruntime-node's binding. Never throws. */
export async function detectCuda(env: NodeJS.ProcessEnv = process.env): Promise<CudaDetection> {
  const { gpus, note } = await listGpus(env);
  // Where @xception/engines loads onnxruntime-node from: the provider must sit beside that binding.
  const root = onnxRuntimeInstallDir();
  const providerDir = root === null ? null : join(root, 'bin', 'napi-v6', process.platform, process.arch);
  // Without onnxruntime-node, the command as run from the install folder is the best advice.
  const installCommand = `node ${root === null ? join('node_modules', 'onnxruntime-node', 'script', 'install.js') : join(root, 'script', 'install.js')} --onnxruntime-node-install=cuda12`;
  return {
    gpus,
    driverNote: note,
    providerDir,
    providerInstalled: providerDir !== null && existsSync(join(providerDir, CUDA_PROVIDER_LIBRARY)),
    installCommand,
  };
}

function listGpus(env: NodeJS.ProcessEnv): Promise<{ gpus: string[] | null; note: string | null }> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], { env, timeout: 10_000, encoding: 'utf8' }, (error, stdout) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        resolve({ gpus: null, note: code === 'ENOENT' ? 'nvidia-smi not found on PATH (no NVIDIA driver)' : `nvidia-smi failed (${String(error.message).split('\n')[0]})` });
        return;
      }
      const gpus = stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((l) => {
        const [name, driver] = l.split(',').map((s) => s.trim());
        return `${name}, driver ${driver ?? '?'}`;
      });
      resolve({ gpus, note: gpus.length === 0 ? 'nvidia-smi lists no GPU' : null });
    });
  });
}

export interface DeviceDecision {
  device: 'cpu' | 'cuda';
  /** One line to print (auto on a GPU box without the CUDA provider), or null. */
  warning: string | null;
}

/**
 * The `device` option: 'cpu' is always honoured; 'cuda' is refused at start, naming what is
 * missing; 'auto' takes the GPU when both the driver and the provider are there, and says so in
 * one line when a GPU is there but the provider is not (rather than a silent CPU run). Refusals
 * are RuntimeErrors (ERR_RUNTIME_OPTIONS, ERR_DEVICE_UNAVAILABLE) that each front door words.
 */
export function decideDevice(requested: DeviceChoice, engine: string, cuda: CudaDetection): DeviceDecision {
  if (requested === 'cpu') return { device: 'cpu', warning: null };
  const hasGpu = cuda.gpus !== null && cuda.gpus.length > 0;
  if (requested === 'cuda') {
    if (engine !== 'onnx' && engine !== 'auto') {
      throw new RuntimeError('ERR_RUNTIME_OPTIONS', 'device', (w) => `${w.option('device', 'cuda')} runs on ${w.option('engine', 'onnx')} (or auto), not ${w.option('engine', engine)}.`);
    }
    if (!hasGpu) {
      throw new RuntimeError('ERR_DEVICE_UNAVAILABLE', 'device', (w) => `${w.option('device', 'cuda')}: no NVIDIA GPU here: ${cuda.driverNote ?? 'nvidia-smi lists none'}; install the NVIDIA driver, or use ${w.option('device', 'cpu')}.`);
    }
    if (!cuda.providerInstalled) {
      throw new RuntimeError('ERR_DEVICE_UNAVAILABLE', 'device', (w) => `${w.option('device', 'cuda')}: onnxruntime's CUDA provider (${CUDA_PROVIDER_LIBRARY} in ${cuda.providerDir ?? 'onnxruntime-node, which is not installed'}) is missing; install it with: ${cuda.installCommand}`);
    }
    return { device: 'cuda', warning: null };
  }
  if (hasGpu && !cuda.providerInstalled && (engine === 'onnx' || engine === 'auto')) {
    return {
      device: 'cpu',
      warning: `warning: ${cuda.gpus![0]} found but onnxruntime's CUDA provider (${CUDA_PROVIDER_LIBRARY}) is not installed, so this runs on the CPU; install it with: ${cuda.installCommand}`,
    };
  }
  return { device: hasGpu && cuda.providerInstalled ? 'cuda' : 'cpu', warning: null };
}
