/**
 * `tagger serve <folders…>` (the root script `pnpm tagger`): the desktop app served to a
 * browser, for a NAS or a headless box, or a machine without Electron. Prints the address to
 * open (with the token), tags new photos by itself, and shows progress here and in the page.
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Precision, Settings, TaggingProgress, WeightsChoice } from '../shared/api.js';
import type { UtilityEngineChoice } from '../core/engine-classifier.js';
import { DesktopError } from '../core/errors.js';
import type { ServedApp } from './served-app.js';
import { addressFor, exposureWarning } from './served-security.js';

const ENGINES: readonly UtilityEngineChoice[] = ['auto', 'onnx', 'tfjs-node', 'wasm'];
const PRECISIONS: readonly Precision[] = ['fp32', 'int8'];

/** A mistake on the command line or at start: one line, no stack trace. */
export class TaggerError extends Error {}

const integer = (flag: string, min: number, max: number) => (value: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be a whole number from ${min} to ${max}.`);
  return n;
};
const unitInterval = (flag: string) => (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${flag} must be a number from 0 to 1.`);
  return n;
};

export interface ServeOptions {
  port: number;
  host: string;
  weights: string;
  engine: UtilityEngineChoice;
  /** Absent: the saved setting (fp32 at first). */
  precision?: Precision;
  imageSize?: number;
  threshold?: number;
  threads?: number;
  dataDir?: string;
  tag: boolean;
}

const defaultDataDir = (): string => join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'xception-tagger');
const here = dirname(fileURLToPath(import.meta.url));

/** Terminal progress: a line when the state changes and at most one a second while tagging. */
export function createTerminalProgress(write: (line: string) => void, now = () => Date.now()): (p: TaggingProgress) => void {
  let lastState = '';
  let lastLine = 0;
  let started = 0;
  return (p) => {
    if (p.state === 'running' && !started) started = now();
    if (p.state === 'running' && p.done + p.failed === 0) return; // nothing to say yet (and the model may still load)
    const changed = p.state !== lastState;
    lastState = p.state;
    if (!changed && now() - lastLine < 1000) return;
    lastLine = now();
    const counts = `${p.done}/${p.total}${p.failed ? `, ${p.failed} failed` : ''}`;
    if (p.state === 'loading-model') write(p.download ? `downloading weights: ${p.download.loaded} bytes` : 'loading the model…');
    else if (p.state === 'running') write(`tagging ${counts}`);
    else if (p.state === 'done') write(`tagged ${counts}${started ? ` in ${((now() - started) / 1000).toFixed(1)} s` : ''}; sidecars are beside the photos`);
    else if (p.state === 'failed') write(`tagging failed: ${p.message ?? 'unknown error'}`);
    else if (p.state !== 'idle') write(`${p.state} ${counts}`);
    if (p.state !== 'running') started = 0;
  };
}

/**
 * --image-size sets the side of random weights (--weights none). With imagenet it must obey
 * Keras' rule, @xception/runtime's checkImageSize (said here in flags); a weights file runs at
 * the size it was saved with, so it takes no --image-size.
 */
async function checkImageSizeFlag(weights: string, imageSize: number): Promise<void> {
  if (weights !== 'imagenet') throw new TaggerError('--image-size applies to --weights none only; a weights file runs at the size it was saved with.');
  // Imported here: a wrong flag is answered without loading the engines (the runtime imports them).
  const { checkImageSize, RuntimeError } = await import('@xception/runtime');
  try {
    checkImageSize(weights, imageSize);
  } catch (error) {
    if (!(error instanceof RuntimeError)) throw error;
    // checkImageSize names the image size (and the weights) only; serve has no --device nor calibration flag.
    const flags = { weights: '--weights', engine: '--engine', imageSize: '--image-size', device: '--device', precision: '--precision', calibration: 'calibration photos' };
    throw new TaggerError(error.describe({ option: (option, value) => `${flags[option]} ${value}`, value: (_option, value) => value }));
  }
}

export async function serve(folders: string[], options: ServeOptions, out: { print(line: string): void; say(line: string): void }): Promise<ServedApp> {
  const base = process.env.INIT_CWD ?? process.cwd(); // pnpm runs root scripts in the root: folders are the user's
  const roots = folders.map((f) => resolve(base, f));
  for (const root of roots) {
    const info = (() => { try { return statSync(root); } catch { return null; } })();
    if (!info?.isDirectory()) throw new TaggerError(`'${root}' is not a folder; pass folders of photos.`);
  }
  const random = options.weights === 'none';
  if (options.imageSize !== undefined && !random) await checkImageSizeFlag(options.weights, options.imageSize);
  const weights: WeightsChoice = random || options.weights === 'imagenet' ? { kind: 'imagenet' } : { kind: 'file', path: resolve(base, options.weights) };
  const settings: Partial<Settings> = {
    engine: options.engine, weights,
    ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
    ...(options.precision === undefined ? {} : { precision: options.precision }),
  };
  const warning = exposureWarning(options.host);
  if (warning) out.say(warning);
  // Imported here, not above: a wrong flag is answered without loading the engines, tfjs and sharp.
  const [{ startServedApp }, { createEngineClassifier, describeLoadError, modelIdOf }, { THUMBNAIL_SIZE }] = await Promise.all([import('./served-app.js'), import('../core/engine-classifier.js'), import('../core/thumbnails.js')]);
  let app: ServedApp;
  try {
    app = await startServedApp({
      folders: roots,
      dataDir: resolve(base, options.dataDir ?? defaultDataDir()),
      rendererDir: join(here, '..', 'renderer'),
      host: options.host,
      port: options.port,
      settings,
      tagOnStart: options.tag,
      onProgress: createTerminalProgress(out.say),
      describeLoadError,
      log: out.say,
      // Photos tagged by other weights (ImageNet's, an older model.keras) are tagged again at start.
      currentModelId: async (current) => modelIdOf(random ? null : current.weights),
      createClassifier: async (current, { calibrationPhotos }) => {
        if (current.engine === 'webgl') throw new DesktopError('ERR_ENGINE_UNAVAILABLE', "The 'webgl' engine runs only in the desktop app; choose auto, onnx or wasm in settings.");
        return createEngineClassifier({
          engine: current.engine,
          precision: current.precision,
          calibrationPhotos,
          weights: random ? null : current.weights,
          ...(options.imageSize ? { imageSize: options.imageSize } : {}),
          ...(options.threads ? { threads: options.threads } : {}),
          // The grid's thumbnails from the tagging decode: one decode per photo.
          thumbnailSize: THUMBNAIL_SIZE,
          log: out.say,
        });
      },
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'EADDRINUSE') throw new TaggerError(`Port ${options.port} is in use; pass another --port (or --port 0 for any free one).`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new TaggerError(`Cannot listen on --host ${options.host}: not an address of this machine.`);
    throw error;
  }
  out.print(`Xception tagger: serving ${roots.length} folder${roots.length === 1 ? '' : 's'}; open`);
  out.print(`  ${addressFor(options.host, app.port, app.rules.token)}`);
  return app;
}

export function buildProgram(out: { print(line: string): void; say(line: string): void }, onServe: (app: ServedApp) => void): Command {
  const program = new Command()
    .name('tagger')
    .description('The Xception photo tagger served to a browser (the desktop app without Electron).')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => out.print(text.trimEnd()),
      writeErr: (text) => out.say(text.trimEnd()),
      outputError: (text, write) => write(`tagger: ${text.replace(/^error: /, '')}`),
    })
    .exitOverride();
  program
    .command('serve')
    .summary('Tag folders of photos and serve the app at http://127.0.0.1:PORT')
    .description('Scans the folders, tags new and changed photos (XMP sidecars beside them, as the desktop app writes),\n' +
      'and serves the app to a browser. Only the address printed, with its token, opens it. Photos are never written.')
    .argument('<folders...>', 'folders of photos (the page cannot add others)')
    .option('-p, --port <n>', 'port (0: any free one)', integer('--port', 0, 65535), 8765)
    .option('--host <host>', 'address to listen on; anything but loopback exposes the library to the network (a warning says so)', '127.0.0.1')
    .option('-w, --weights <source>', "'imagenet', a .keras / .h5 file (a model from `xception train` tags with its own classes), or 'none' (random, for testing)", 'imagenet')
    .addOption(new Option('-e, --engine <engine>', 'inference engine').choices(ENGINES).default('auto'))
    .addOption(new Option('--precision <precision>', "fp32, or int8: onnxruntime's int8 kernels, calibrated on the library's first 64 photos (default: the saved setting, fp32 at first)").choices(PRECISIONS))
    .option('--image-size <n>', 'model input side (with --weights none only; a .keras file runs at its own)', integer('--image-size', 32, 2048))
    .option('--threshold <0..1>', 'minimum score of a tag (default: the saved setting, 0.3 at first)', unitInterval('--threshold'))
    .option('-t, --threads <n>', "the engine's threads (default: CPUs)", integer('--threads', 1, 1024))
    .option('--data-dir <dir>', 'index, settings and thumbnail cache (default: $XDG_DATA_HOME/xception-tagger)')
    .option('--no-tag', 'serve without tagging new photos at start')
    .addHelpText('after', '\nExamples:\n  pnpm tagger serve ~/Pictures\n  pnpm tagger serve /srv/photos --host 0.0.0.0 --port 8080 --engine onnx')
    .action(async (folders: string[], options: ServeOptions) => onServe(await serve(folders, options, out)));
  return program;
}

async function main(): Promise<void> {
  const out = { print: (l: string) => void process.stdout.write(`${l}\n`), say: (l: string) => void process.stderr.write(`${l}\n`) };
  try {
    await buildProgram(out, (app) => {
      void app.ready.catch((error: unknown) => out.say(`tagger: scanning the folders failed: ${error instanceof Error ? error.message : String(error)}`));
      let stopping = false;
      const stop = (): void => {
        if (stopping) process.exit(130);
        stopping = true;
        out.say('stopping: finishing the batch in flight and saving the index…');
        void app.close().then(() => process.exit(0));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    }).parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    // Every typed error (the app's, the photo library's, the runtime's) has an ERR_* code and one sentence.
    const code = (error as { code?: unknown } | null)?.code;
    if (error instanceof TaggerError || (typeof code === 'string' && code.startsWith('ERR_'))) {
      out.say(`tagger: ${(error as Error).message}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
