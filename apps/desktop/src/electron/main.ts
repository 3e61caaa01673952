/**
 * The Electron main process: the only module (with the preload) that imports electron. It
 * wires Electron's objects into the plain modules (library-service, ipc-handlers, thumbnails,
 * window-security, utility-classifier), which are what the tests exercise.
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, protocol, session, utilityProcess } from 'electron';
import { CHANNELS, THUMBNAIL_SCHEME, type GpuInfo } from '../shared/api.js';
import { createRendererClassifier, resolveEngine, webglTopK, webglWeightsFrom } from '../core/renderer-classifier.js';
import { registerIpcHandlers } from './ipc-handlers.js';
import { createProgressForwarder } from '../core/progress-forwarder.js';
import { createLibraryService } from '../core/library-service.js';
import { createThumbnailService, THUMBNAIL_SIZE, type ThumbnailService } from '../core/thumbnails.js';
import { createUtilityClassifier, type UtilityProcessLike } from '../core/utility-classifier.js';
import { APP_ORIGIN, APP_SCHEME, CONTENT_SECURITY_POLICY, isAppUrl, lockDown, secureWebPreferences } from './window-security.js';
import { describeLoadError, modelIdOf } from '../core/engine-classifier.js';
import { DesktopError } from '../core/errors.js';

const here = dirname(fileURLToPath(import.meta.url));
const rendererDir = join(here, '..', 'renderer');
const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: false } },
  { scheme: THUMBNAIL_SCHEME, privileges: { standard: true, secure: true } },
]);

let window: BrowserWindow | null = null;
/** The renderer's last GPU report (shown in Settings) and the webgl classifier, if any. */
let gpu: GpuInfo | null = null;
let webgl: ReturnType<typeof createRendererClassifier> | null = null;

async function start(): Promise<void> {
  await app.whenReady();
  const dataDir = app.getPath('userData');
  let thumbnails: ThumbnailService | null = null;
  const forward = createProgressForwarder((channel, progress) => window?.webContents.send(channel, progress));
  const service = createLibraryService({
    dataDir,
    createClassifier: async (settings, { calibrationPhotos }) => {
      if (resolveEngine(settings.engine, gpu) === 'webgl') {
        // The library service then loads the same weights in fp32, on webgl.
        if (settings.precision === 'int8') throw new DesktopError('ERR_PRECISION_UNAVAILABLE', "Precision int8 runs on onnxruntime's int8 kernels in the inference process, not on the 'webgl' engine; choose auto or onnx for int8.");
        // Forward passes in the renderer (WebGL); decoding, weights and bookkeeping stay here.
        const vision = await import('@xception/vision-utils/node');
        const weights = settings.weights;
        webgl = createRendererClassifier({
          modelId: await modelIdOf(weights),
          send: (request) => window?.webContents.send(CHANNELS.inferenceRequest, request),
          loadModel: (onProgress) => webglWeightsFrom(weights.kind === 'imagenet' ? 'imagenet' : weights.path, onProgress),
          decode: (photo) => vision.loadImage(photo, { size: 299 }),
          decodePredictions: await webglTopK(),
        });
        return webgl;
      }
      // The grid's thumbnails come from the host's tagging decodes (one decode per photo).
      return createUtilityClassifier(() => utilityProcess.fork(join(here, 'inference-host.js'), [], { serviceName: 'Xception inference' }) as unknown as UtilityProcessLike, settings, { thumbnailSize: THUMBNAIL_SIZE, calibrationPhotos });
    },
    // Photos tagged by other weights are tagged again by "Tag new photos" (a retrained model.keras included).
    currentModelId: (settings) => modelIdOf(settings.weights),
    onProgress: forward,
    onLibraryChanged: (change) => window?.webContents.send(CHANNELS.libraryChanged, change),
    onThumbnail: async (photo, jpeg) => thumbnails?.store(photo, jpeg),
    describeLoadError,
    log: (line) => console.log(line),
  });
  await service.init();
  // The folders are watched (new photos tagged as they arrive); the scan that sets the watches
  // up also brings the index in step with changes made while the app was closed.
  service.watch({ tagNew: true });
  void service.scan().catch(() => undefined);

  thumbnails = createThumbnailService({ cacheDir: join(dataDir, 'thumbnails'), guard: service.guard, waitForTagging: (photo) => service.waitForTagging(photo) });
  protocol.handle(THUMBNAIL_SCHEME, (request) => thumbnails.handle(request.url));
  protocol.handle(APP_SCHEME, async (request) => {
    // Only files of the built renderer, nothing above it.
    const path = normalize(join(rendererDir, decodeURIComponent(new URL(request.url).pathname)));
    if (!path.startsWith(rendererDir + sep)) return new Response('forbidden', { status: 403 });
    try {
      return new Response(await readFile(path), { headers: { 'content-type': MIME[extname(path)] ?? 'application/octet-stream', 'content-security-policy': CONTENT_SECURITY_POLICY } });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });

  registerIpcHandlers({
    ipcMain,
    service,
    isTrustedSender: isAppUrl,
    inference: { onGpu: (info) => void (gpu = info), onReply: (reply) => webgl?.receive(reply) },
    pickers: {
      async pickFolders() {
        const result = await dialog.showOpenDialog(window!, { properties: ['openDirectory', 'multiSelections'] });
        return result.canceled ? [] : result.filePaths;
      },
      async pickWeightsFile() {
        const result = await dialog.showOpenDialog(window!, { properties: ['openFile'], filters: [{ name: 'Keras weights', extensions: ['keras', 'h5', 'json'] }] });
        return result.canceled ? null : (result.filePaths[0] ?? null);
      },
    },
  });

  window = new BrowserWindow({ width: 1280, height: 860, title: 'Xception photo tagger', backgroundColor: '#15171a', webPreferences: secureWebPreferences(join(here, 'preload.cjs')) });
  lockDown(window.webContents, session.defaultSession);
  await window.loadURL(`${APP_ORIGIN}/index.html`);

  app.on('before-quit', (event) => {
    // Store finished work (the index) before quitting; sidecars are already written per photo.
    event.preventDefault();
    app.removeAllListeners('before-quit');
    void service.dispose().finally(() => app.quit());
  });
  app.on('window-all-closed', () => app.quit());
}

void start();
