import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The onnxruntime-node module, typed from the package. */
export type OrtModule = typeof import('onnxruntime-node');
/** How onnxruntime-node is imported: replaceable, so tests can make it fail. */
export type OrtLoader = () => Promise<OrtModule>;

export interface OnnxProbe {
  available: boolean;
  /** 'onnxruntime-node 1.30.0 (cpu; cuda: libraries not installed)', or why it did not load. */
  detail: string;
  ort: OrtModule | null;
  /** Execution providers that can run here, best first: ['cuda', 'cpu'] or ['cpu']. */
  providers: string[];
  /** Why CUDA is not among them, for doctor and logs (null when it is). */
  cudaNote: string | null;
}

/** `XCEPTION_DISABLE_ONNX=1` hides onnxruntime-node, as if it were not installed. */
export const DISABLE_ONNX_ENV = 'XCEPTION_DISABLE_ONNX';

export const defaultOrtLoader: OrtLoader = async () => {
  const m = (await import('onnxruntime-node')) as OrtModule & { default?: OrtModule };
  return (m.InferenceSession ? m : m.default) as OrtModule;
};

/**
 * The folder onnxruntime-node is installed in (its package root), as this package resolves it;
 * null when it is not installed. Its native libraries, the CUDA provider among them, live under it.
 */
export function onnxRuntimeInstallDir(): string | null {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..');
  } catch {
    return null;
  }
}

let cached: Promise<OnnxProbe> | null = null;

/**
 * onnxruntime-node ships its CPU binaries in the npm package; CUDA needs libraries its
 * postinstall downloads (not run here: see allowBuilds in pnpm-workspace.yaml). Looked for at
 * run time; never required.
 */
export function probeOnnxRuntime(loader?: OrtLoader): Promise<OnnxProbe> {
  if (loader) return probe(loader);
  cached ??= probe(defaultOrtLoader);
  return cached;
}

async function probe(loader: OrtLoader): Promise<OnnxProbe> {
  const off = process.env[DISABLE_ONNX_ENV];
  if (off && off !== '0' && off !== 'false') {
    return { available: false, detail: `${DISABLE_ONNX_ENV}=${off} is set`, ort: null, providers: [], cudaNote: null };
  }
  let ort: OrtModule;
  try {
    ort = await loader();
    if (typeof ort?.InferenceSession?.create !== 'function') throw new Error('it has no InferenceSession');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ERR_MODULE_NOT_FOUND' ? 'onnxruntime-node is not installed' : `onnxruntime-node failed to load (${firstLine(error)})`;
    return { available: false, detail: why, ort: null, providers: [], cudaNote: null };
  }
  const version = ort.env?.versions?.node ?? '?';
  const listed = listBackends(ort);
  let cudaNote: string | null = null;
  const providers = ['cpu'];
  if (!listed.includes('cuda')) cudaNote = 'not in this build';
  else if (!cudaLibraryPresent()) cudaNote = 'CUDA provider library not installed (onnxruntime-node\'s install script downloads it)';
  else providers.unshift('cuda');
  return { available: true, detail: `onnxruntime-node ${version} (${providers.join(', ')}${cudaNote ? `; cuda: ${cudaNote}` : ''})`, ort, providers, cudaNote };
}

function listBackends(ort: OrtModule): string[] {
  try {
    const list = (ort as { listSupportedBackends?: () => Array<{ name: string }> }).listSupportedBackends?.() ?? [];
    return list.map((b) => b.name);
  } catch {
    return [];
  }
}

function cudaLibraryPresent(): boolean {
  try {
    const main = createRequire(import.meta.url).resolve('onnxruntime-node');
    const dir = join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(join(dir, 'libonnxruntime_providers_cuda.so')) || existsSync(join(dir, 'onnxruntime_providers_cuda.dll'));
  } catch {
    return false;
  }
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!.slice(0, 160);
}
