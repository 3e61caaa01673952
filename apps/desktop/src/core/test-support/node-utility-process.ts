import { fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { UtilityProcessLike } from '../utility-classifier.js';

const SHIM = fileURLToPath(new URL('./utility-process-shim.mjs', import.meta.url));
/** The inference host from its TypeScript sources (run through tsx). */
export const HOST_SOURCE = fileURLToPath(new URL('../../electron/inference-host.ts', import.meta.url));

/**
 * `utilityProcess.fork(inference-host.js)` without Electron: a Node child process whose
 * `process.parentPort` is the IPC channel (structured clone, as Electron's). `host` may be the
 * TypeScript source (run through tsx) or a built bundle.
 */
export function forkNodeUtilityProcess(host: string = HOST_SOURCE): UtilityProcessLike & { pid: number | undefined } {
  const execArgv = host.endsWith('.ts') ? ['--conditions=source', '--import', 'tsx'] : [];
  const child = fork(SHIM, [pathToFileURL(host).href], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    pid: child.pid,
    postMessage: (message) => void child.send(message),
    on: ((event: 'message' | 'exit', listener: (...args: never[]) => void) => child.on(event, listener as (...args: unknown[]) => void)) as UtilityProcessLike['on'],
    kill: () => child.kill('SIGKILL'),
  };
}
