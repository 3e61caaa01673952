import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNELS } from '../shared/api.js';
import { registerIpcHandlers, type IpcEventLike, type IpcMainLike } from './ipc-handlers.js';
import { createLibraryService } from '../core/library-service.js';
import { createStandInClassifier } from '../core/test-support/stand-in-classifier.js';
import { makeTempDir } from '../core/test-support/temp-dir.js';

/** A stand-in for Electron's ipcMain: records handlers and lets the test invoke them. */
function fakeIpcMain() {
  const handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => unknown>();
  const ipcMain: IpcMainLike = { handle: (c, l) => void handlers.set(c, l), removeHandler: (c) => void handlers.delete(c) };
  const invoke = async (channel: string, url: string, ...args: unknown[]) => handlers.get(channel)!({ senderFrame: { url } }, ...args);
  return { ipcMain, handlers, invoke };
}

async function setup() {
  const photos = makeTempDir('xception-ipc-');
  writeFileSync(join(photos, 'a.jpg'), 'x');
  const service = createLibraryService({ dataDir: makeTempDir('xception-data-'), createClassifier: async () => createStandInClassifier() });
  await service.init();
  const ipc = fakeIpcMain();
  let picked: string[] = [photos];
  const unregister = registerIpcHandlers({
    ipcMain: ipc.ipcMain,
    service,
    isTrustedSender: (url) => url.startsWith('app://renderer/'),
    pickers: { pickFolders: async () => picked, pickWeightsFile: async () => '/models/xception.h5' },
  });
  const call = (channel: string, ...args: unknown[]) => ipc.invoke(channel, 'app://renderer/index.html', ...args);
  return { photos, service, ipc, call, unregister, setPicked: (p: string[]) => (picked = p) };
}

describe('IPC handlers', () => {
  it('registers one handler per bridge method and removes them all', async () => {
    const { ipc, unregister } = await setup();
    expect([...ipc.handlers.keys()].sort()).toEqual(Object.values(CHANNELS).filter((c) => c !== CHANNELS.progress && c !== CHANNELS.libraryChanged && c !== CHANNELS.inferenceRequest).sort());
    unregister();
    expect(ipc.handlers.size).toBe(0);
  });

  it('adds the folder the user picked in the dialog (the renderer never names it)', async () => {
    const { photos, call, setPicked } = await setup();
    expect(await call(CHANNELS.addFolders)).toEqual([{ path: photos, photoCount: 1 }]);
    setPicked([]);
    expect(await call(CHANNELS.addFolders)).toEqual([]);
  });

  it('adds every folder picked in one dialog (multiSelections)', async () => {
    const { photos, call, setPicked, service } = await setup();
    const second = makeTempDir('xception-ipc-second-');
    writeFileSync(join(second, 'b.jpg'), 'x');
    writeFileSync(join(second, 'c.png'), 'x');
    setPicked([photos, second]);
    expect(await call(CHANNELS.addFolders)).toEqual([{ path: photos, photoCount: 1 }, { path: second, photoCount: 2 }]);
    expect(await call(CHANNELS.listFolders)).toEqual([{ path: photos, photoCount: 1 }, { path: second, photoCount: 2 }]);
    expect(service.query({}).total).toBe(3);
  });

  it('refuses calls from any page but the app', async () => {
    const { ipc } = await setup();
    await expect(ipc.invoke(CHANNELS.listFolders, 'https://evil.example/')).rejects.toThrow(/only the app's own page/);
  });

  it('validates every argument', async () => {
    const { call, photos } = await setup();
    await call(CHANNELS.addFolders);
    await expect(call(CHANNELS.query, { tags: 'dog' })).rejects.toThrow(/Invalid argument to 'xception:query': 0\.tags/);
    await expect(call(CHANNELS.query, { limit: 10, extra: 1 })).rejects.toThrow(/Unrecognized key/);
    await expect(call(CHANNELS.similar, 'relative/a.jpg', 5)).rejects.toThrow(/absolute path/);
    await expect(call(CHANNELS.addTag, join(photos, 'a.jpg'))).rejects.toThrow(/Invalid argument/);
    await expect(call(CHANNELS.updateSettings, { threshold: 2 })).rejects.toThrow(/threshold/);
    await expect(call(CHANNELS.updateSettings, { hierarchyRoot: 'a|b' })).rejects.toThrow(/must not contain/);
    await expect(call(CHANNELS.startTagging, { scope: 'everything' })).rejects.toThrow(/scope/);
    await expect(call(CHANNELS.addTag, '/etc/passwd', 'x')).rejects.toThrow(/not inside a folder added/);
    await expect(call(CHANNELS.addTag, join(photos, 'a.jpg'), 'a|b')).rejects.toThrow(/^The tag "a\|b" cannot be used: /);
  });

  it('accepts a weights file only after the user picked it', async () => {
    const { call } = await setup();
    await expect(call(CHANNELS.updateSettings, { weights: { kind: 'file', path: '/models/xception.h5' } })).rejects.toThrow(/chooseWeightsFile first/);
    expect(await call(CHANNELS.chooseWeightsFile)).toBe('/models/xception.h5');
    expect(await call(CHANNELS.updateSettings, { weights: { kind: 'file', path: '/models/xception.h5' } })).toMatchObject({ weights: { kind: 'file', path: '/models/xception.h5' } });
  });
});
