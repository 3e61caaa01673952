import { CHANNELS } from '../shared/api.js';
import { createBridgeMethods, type BridgeMethodsOptions } from '../core/bridge-methods.js';
import { DesktopError } from '../core/errors.js';

/** The parts of Electron's ipcMain and IpcMainInvokeEvent used here (injected). */
export interface IpcEventLike {
  senderFrame: { url: string } | null;
}
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export type { Pickers } from '../core/bridge-methods.js';

export interface IpcHandlerOptions extends Omit<BridgeMethodsOptions, 'nameOf'> {
  ipcMain: IpcMainLike;
  /** Only the app's own page may call: e.g. url.startsWith('app://renderer/'). */
  isTrustedSender(url: string): boolean;
}

/**
 * Registers one handler per bridge method. Each checks the sender is the app's own page, then
 * hands the call to the shared bridge methods (argument schemas, then the service, which checks
 * paths against the added folders). Returns a function that removes the handlers.
 */
export function registerIpcHandlers({ ipcMain, isTrustedSender, ...options }: IpcHandlerOptions): () => void {
  const methods = createBridgeMethods({ ...options, nameOf: (name) => CHANNELS[name] });
  for (const name of methods.names) {
    ipcMain.handle(CHANNELS[name], async (event, ...args) => {
      const url = event.senderFrame?.url ?? '';
      if (!isTrustedSender(url)) throw new DesktopError('ERR_INVALID_ARGUMENT', `IPC from '${url}' refused: only the app's own page may call the main process.`);
      return methods.call(name, args);
    });
  }
  return () => methods.names.forEach((name) => ipcMain.removeHandler(CHANNELS[name]));
}
