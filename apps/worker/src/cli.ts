#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT } from './cli-error.js';
import { inFlagWords } from './flag-words.js';
// Commands are imported when they run, not here: --version, --help and a wrong command line
// answer without loading tfjs, onnxruntime, sharp or h5wasm (measured: see the worker README).
import type { PredictOptions } from './commands/predict.js';
import type { QuantizeOptions } from './commands/quantize.js';
import type { ImagesCommandOptions } from './commands/run-images.js';
import type { TagOptions } from './commands/tag.js';
import type { TrainOptions } from './commands/train.js';
import { DEVICE_CHOICES, ENGINE_CHOICES } from '@xception/engines/choices';
import { TRAINABLE_FROM_CHOICES } from '@xception/training/choices';

/** The worker's package.json sits one folder above src/ and dist/ alike. */
const packageVersion = (): string => (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const say = (line: string): void => { process.stderr.write(`${line}\n`); };
const print = (line: string): void => { process.stdout.write(`${line}\n`); };

const positiveInt = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer.`);
  return n;
};

const unitInterval = (name: string) => (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a number from 0 to 1.`);
  return n;
};
const positiveNumber = (name: string, value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number above 0.`);
  return n;
};
const nonNegativeNumber = (name: string, value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number >= 0.`);
  return n;
};
const ENVIRONMENT_HELP = `
Environment:
  XCEPTION_HOME          the weights cache (default: the user cache folder)
  XCEPTION_DISABLE_ONNX  1: never load onnxruntime-node (--engine auto picks the next engine)
  JOB_COMPLETION_INDEX   with --shard unset: this pod's shard (Kubernetes Indexed Job; the count from XCEPTION_SHARD_COUNT)
  SLURM_ARRAY_TASK_ID    with --shard unset: this task's shard (Slurm array; the count from SLURM_ARRAY_TASK_COUNT)
  UV_THREADPOOL_SIZE     libuv threads, which image decoding (sharp) runs on (Node's default: 4)
  AWS_ENDPOINT_URL       for s3:// inputs and --out: an S3-compatible server (MinIO, Ceph); path-style addressing
  AWS_REGION             its region (default: us-east-1); credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
                         else the AWS SDK's chain (AWS_PROFILE, ~/.aws, the instance role)
  AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED  for servers that refuse the SDK's trailing checksums (radosgw 16)`;

const EXIT_CODES_HELP = `
Exit codes: 0 all inputs succeeded; 3 the run finished but some inputs failed (each has an
error row); 1 a fatal error (weights, engine, output); 2 a wrong command line.`;

function imagesCommand(program: Command, kind: 'classify' | 'embed', summary: string, examples: string): void {
  program
    .command(kind)
    .summary(summary)
    .description(`${summary}.\nInputs are files, folders, globs (quoted), http(s) URLs, s3://bucket/prefix (every image and .tar under it) or s3://bucket/key,\nwebdataset .tar shards, local or in S3 (each image member is one input, its row path shard.tar#member), or - to read\npaths and URLs from standard input.\nRerunning with the same --out resumes: finished inputs are skipped.`)
    .argument('[inputs...]', 'files, folders, globs, URLs, s3:// prefixes and objects, .tar shards or -')
    .option('--input-list <file>', 'a file of inputs, one path or URL a line (blank lines and # comments skipped); repeatable', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--max-input-bytes <n>', 'the largest URL body, S3 object or tar member read (default: 64 MiB); a larger one gets an error row', positiveInt('--max-input-bytes'))
    .option('--input-timeout <seconds>', 'one URL or S3 request (default: 30); tried 3 times with backoff', positiveInt('--input-timeout'))
    .requiredOption('-o, --out <file>', (kind === 'classify' ? 'results file: .jsonl, .csv or .parquet' : 'results: .npy (float32 [N, 2048], with <name>.paths.txt), .parquet (path, embedding: 2048 float32) or .jsonl (a row with the features per image)') +
      '; or s3://bucket/key.ext: written in --work-dir, uploaded when the run ends')
    .option('--work-dir <dir>', 'where an s3:// --out is written, locked and resumed before its upload (default: $XCEPTION_HOME/work, else ~/.cache/xception/work)')
    .option('-r, --recursive', 'walk folders recursively', false)
    .option('-k, --top-k <n>', 'classes per image', positiveInt('--top-k'), 5)
    .option('-b, --batch-size <n>', 'images per inference batch', positiveInt('--batch-size'), 8)
    .option('-w, --weights <source>', "'imagenet', a .keras / .h5 / model.json path or URL, or 'none' (random, for testing)", 'imagenet')
    .addOption(new Option('-e, --engine <engine>', 'inference engine').choices(ENGINE_CHOICES).default('auto'))
    .addOption(new Option('--precision <precision>', "fp32, or int8: onnxruntime's int8 kernels on a model calibrated on photos (xception quantize, else the run's first 64 inputs) and cached; refused when it agrees with fp32 on under 98% of held-out photos").choices(['fp32', 'int8']).default('fp32'))
    .addOption(new Option('--device <device>', "auto: the GPU when onnxruntime's CUDA provider and an NVIDIA driver are there; cuda: fail at start when either is missing").choices(DEVICE_CHOICES).default('auto'))
    .option('-t, --threads <n>', 'threads: the wasm pool\'s workers, or onnxruntime\'s intra-op threads (default: CPUs)', positiveInt('--threads'))
    .option('--decode-threads <n>', 'images decoded at once, beside inference (default: 2 per engine thread + 2); sharp runs them on the libuv pool (UV_THREADPOOL_SIZE)', positiveInt('--decode-threads'))
    .option('--shard <i/n>', 'process shard i of n (also read from Kubernetes Indexed Jobs and Slurm arrays)')
    .addOption(new Option('--resize <mode>', "squash (Keras' load_img) or center-crop").choices(['squash', 'center-crop']).default('squash'))
    .option('--image-size <n>', 'model input side (default: the size a .keras or model.json was saved with, else 299; imagenet needs 299)', positiveInt('--image-size'))
    .option('--wait-lock <seconds>', 'when another run is writing --out, wait up to this long for it instead of refusing', positiveInt('--wait-lock'))
    .option('--lock-stale <seconds>', 'take over a lock on --out not refreshed for this long: its run died, on any host (default: 20; every run on one --out should agree)', positiveInt('--lock-stale'))
    .option('--retry-failed', 'run again the inputs that have an error row (the rows are replaced)', false)
    .option('-q, --quiet', 'no progress output', false)
    .addOption(new Option('--log-format <format>', 'progress and summary format').choices(['text', 'json']).default('text'))
    .addHelpText('after', `\nExamples:\n${examples}\n${ENVIRONMENT_HELP}\n${EXIT_CODES_HELP}`)
    .action(async (inputs: string[], options: ImagesCommandOptions) => {
      process.exitCode = await (await import('./commands/run-images.js')).runImagesCommand(kind, inputs, options);
    });
}

/** `xception tag`: XMP sidecars for folders of photos. */
function tagCommand(program: Command): void {
  program
    .command('tag')
    .summary('Write XMP sidecar keywords (dc:subject, lr:hierarchicalSubject, digiKam:TagsList) as the desktop app does')
    .description('Tags the photos under the folders (recursively) and writes <photo>.xmp sidecars that digiKam, darktable and Lightroom read,\n' +
      'the same sidecars the desktop app writes: a label is written when its score is at least --threshold among the top-5, through the\n' +
      "tag rules; tags removed or added by hand stay as they are; other tools' metadata in a sidecar keeps every byte. Photos are never\n" +
      'written. Photos whose sidecar already records these weights are not classified again, so a rerun resumes, and a rerun over an\n' +
      'unchanged library writes nothing.')
    .argument('<folders...>', 'folders of photos')
    .option('--threshold <0..1>', 'minimum score of a written tag (default 0.3, or the rules file\'s)', unitInterval('--threshold'))
    .option('--rules <rules.json>', "tag rules: threshold, topK, hierarchyRoot, ignoreLabels, renames, mergeMode (the desktop app's settings.json works)")
    .option('-w, --weights <source>', "'imagenet', a .h5 / model.json path or URL, or 'none' (random, for testing)", 'imagenet')
    .addOption(new Option('-e, --engine <engine>', 'inference engine').choices(ENGINE_CHOICES).default('auto'))
    .option('-b, --batch-size <n>', 'images per inference batch', positiveInt('--batch-size'), 8)
    .option('-t, --threads <n>', 'threads: the wasm pool\'s workers, or onnxruntime\'s intra-op threads (default: CPUs)', positiveInt('--threads'))
    .addOption(new Option('--resize <mode>', "squash (Keras' load_img) or center-crop").choices(['squash', 'center-crop']).default('squash'))
    .option('--image-size <n>', 'model input side (default: the size a .keras or model.json was saved with, else 299; imagenet needs 299)', positiveInt('--image-size'))
    .addOption(new Option('--precision <precision>', "fp32, or int8: onnxruntime's int8 kernels on a model calibrated on photos (xception quantize, else the run's first 64 inputs) and cached; refused when it agrees with fp32 on under 98% of held-out photos").choices(['fp32', 'int8']).default('fp32'))
    .option('-n, --dry-run', 'write nothing; print which sidecars would change and how', false)
    .option('-q, --quiet', 'no progress output', false)
    .addOption(new Option('--log-format <format>', 'progress and summary format').choices(['text', 'json']).default('text'))
    .addHelpText('after', `\nExamples:\n  xception tag ~/Pictures\n  xception tag ~/Pictures --threshold 0.5 --dry-run\n  xception tag /srv/photos --rules ~/.config/xception-desktop/settings.json --engine onnx\n${EXIT_CODES_HELP}`)
    .action(async (folders: string[], options: TagOptions) => { process.exitCode = await (await import('./commands/tag.js')).tagCommand(folders, options, print); });
}

/** `xception train`: a classifier for your own classes. */
function trainCommand(program: Command): void {
  program
    .command('train')
    .summary('Train a classifier for your own classes: one folder of images per class')
    .description('Trains Normalization + Dense(softmax) with L2 weight decay on Xception\'s pooled features (computed once by the engine),\n' +
      'as Keras\' fit() does, and writes Xception(classes=N) with the class names as a Keras 3 .keras archive that classify, embed,\n' +
      'tag and Keras\' load_model read. Classes are the sub-folders of --data in sorted order (Keras\' image_dataset_from_directory);\n' +
      'the list is shuffled with --seed and its last --val-split held out. Each epoch is checkpointed beside --out: rerun the same\n' +
      'command after a crash and it resumes.')
    .requiredOption('--data <dir>', 'a folder with one sub-folder of images per class')
    .requiredOption('-o, --out <model.keras>', 'the trained model (Keras 3 .keras)')
    .option('--epochs <n>', 'epochs', positiveInt('--epochs'), 20)
    .option('--lr <rate>', 'learning rate (default: adam 0.001, sgd 0.01)', (v: string) => positiveNumber('--lr', v))
    .option('--weight-decay <l2>', "L2 factor added to the loss (Keras' kernel_regularizer=l2)", (v: string) => nonNegativeNumber('--weight-decay', v), 1e-4)
    .option('--val-split <fraction>', 'the last fraction of the shuffled images, held out for validation', unitInterval('--val-split'), 0.2)
    .option('-b, --batch-size <n>', 'images per training batch (and per feature batch)', positiveInt('--batch-size'), 32)
    .addOption(new Option('--optimizer <name>', 'adam, or sgd with momentum 0.9').choices(['adam', 'sgd']).default('adam'))
    .option('--patience <epochs>', 'stop early after this many epochs without a better val_loss (restoring the best weights)', (v: string) => Number(nonNegativeNumber('--patience', v)))
    .option('-w, --weights <source>', "the base: 'imagenet', a notop-capable .keras / .h5 / model.json, or 'none' (seeded random, for tests)", 'imagenet')
    .addOption(new Option('-e, --engine <engine>', 'inference engine for the features').choices(ENGINE_CHOICES).default('auto'))
    .option('--image-size <n>', 'model input side (299 for imagenet weights)', positiveInt('--image-size'), 299)
    .option('-t, --threads <n>', 'engine threads', positiveInt('--threads'))
    .option('--seed <n>', 'shuffling and initial weights', (v: string) => Number(nonNegativeNumber('--seed', v)), 0)
    .addOption(new Option('--fine-tune-from <block>', 'after the head, fine-tune the layers from this block on (block14: the exit flow\'s last block), BatchNorm in inference mode as Keras\' fine-tuning guide advises').choices(TRAINABLE_FROM_CHOICES))
    .option('--fine-tune-epochs <n>', 'epochs of fine-tuning', positiveInt('--fine-tune-epochs'), 2)
    .option('--fine-tune-lr <rate>', 'Adam\'s learning rate for fine-tuning', (v: string) => positiveNumber('--fine-tune-lr', v), 1e-4)
    .option('-q, --quiet', 'no progress output', false)
    .addHelpText('after', '\nExamples:\n  xception train --data photos-by-class --out mine.keras\n  xception classify ~/Pictures --weights mine.keras --out mine.jsonl')
    .action(async (options: TrainOptions) => { process.exitCode = await (await import('./commands/train.js')).trainCommand(options, say); });
}

/** `xception predict` (raw output for parity checks) and `xception merge` (shards into one file). */
function predictAndMergeCommands(program: Command): void {
  program
    .command('predict')
    .summary('Raw model output for a float32 NHWC .npy tensor, for parity checks against Keras')
    .requiredOption('-w, --weights <source>', "'imagenet', a .keras / .h5 / model.json path or URL, or 'none'")
    .requiredOption('-i, --input <x.npy>', 'float32 (N, height, width, 3), already preprocessed to [-1, 1]')
    .requiredOption('-o, --output <y.npy>', 'where to write the output')
    .option('--no-top', 'without the classifier (Keras include_top=False)')
    .addOption(new Option('--pooling <mode>', 'with --no-top: avg or max').choices(['avg', 'max']))
    .option('--features <f.npy>', 'also write the pooled 2048-d features')
    .addOption(new Option('-e, --engine <engine>', 'inference engine').choices(ENGINE_CHOICES).default('auto'))
    .option('-b, --batch-size <n>', 'images per engine run', positiveInt('--batch-size'), 8)
    .addOption(new Option('--precision <precision>', "fp32, or int8: onnxruntime's int8 kernels on a model calibrated on photos (xception quantize, else the run's first 64 inputs) and cached; refused when it agrees with fp32 on under 98% of held-out photos").choices(['fp32', 'int8']).default('fp32'))
    .addHelpText('after', `\nExample (Python side: np.save('x.npy', preprocess_input(images).astype('float32'))):\n  xception predict --weights xception.h5 --input x.npy --output y.npy\n  xception predict --weights imagenet --no-top --pooling avg --input x.npy --output f.npy`)
    .action(async (options: PredictOptions) => { process.exitCode = await (await import('./commands/predict.js')).predictCommand(options, say); });

  program
    .command('merge')
    .summary('Merge per-shard result files into one')
    .argument('<out>', 'merged results file (.jsonl, .csv, .npy or .parquet, as the parts)')
    .argument('<parts...>', 'the shard files')
    .option('--skip-bad-rows', 'merge without the rows or parts that cannot be read (counted in the summary) instead of refusing', false)
    .addHelpText('after', '\nExample:\n  xception merge tags.jsonl tags.shard-*-of-4.jsonl')
    .action(async (out: string, parts: string[], o: { skipBadRows: boolean }) => { process.exitCode = await (await import('./commands/merge.js')).mergeCommand(out, parts, say, o); });
}

/** `xception weights fetch | path | verify | convert`. */
function weightsCommands(program: Command): void {
  const weights = program.command('weights').summary('Fetch, verify, locate and convert weight files');
  weights.command('fetch').summary('Download the ImageNet weights into the cache (md5-checked)')
    .option('--no-top', 'the notop file (include_top=False)').option('--cache-dir <dir>', 'instead of $XCEPTION_HOME or the user cache')
    .action(async (o: { top: boolean; cacheDir?: string }) => { process.exitCode = await (await import('./commands/weights.js')).weightsFetch(o, print); });
  weights.command('path').summary('Print where the ImageNet weights live (exit 1 when not downloaded)')
    .option('--no-top', 'the notop file').option('--cache-dir <dir>', 'instead of $XCEPTION_HOME or the user cache')
    .action(async (o: { top: boolean; cacheDir?: string }) => { process.exitCode = await (await import('./commands/weights.js')).weightsPath(o, print); });
  weights.command('verify').summary('Check files (default: the cached ImageNet files) against the registry: size, md5, sha256')
    .argument('[files...]').option('--cache-dir <dir>', 'instead of $XCEPTION_HOME or the user cache')
    .action(async (files: string[], o: { cacheDir?: string }) => { process.exitCode = await (await import('./commands/weights.js')).weightsVerify(files, o, print); });
  weights.command('convert').summary('Write TensorFlow.js layers-model artifacts (browsers, Electron), an ONNX file (onnxruntime) or Keras 3 files')
    .argument('<input>', "a Keras .keras or .h5, a model.json, a folder, a URL, 'imagenet', or (--to onnx, web) 'none' for random weights").argument('<outdir>', 'a folder; with --to keras, the file: out.keras or out.weights.h5')
    .addOption(new Option('--to <format>', 'tfjs: model.json + shards; onnx: <outdir>/xception.onnx (opset 13, NHWC float32 input); keras: a Keras 3 .keras archive or .weights.h5; web: a folder for a static server (model.json + shards, xception.onnx, manifest.json)').choices(['tfjs', 'onnx', 'keras', 'web']).default('tfjs'))
    .addOption(new Option('--quantize <dtype>', 'store the tfjs weights quantized (error measured and printed; tfjs and web)').choices(['float16', 'uint8', 'uint16']))
    .option('--no-top', 'drop the classifier')
    .option('--no-check', 'onnx, web: skip running a test image through the ONNX file and the tfjs core')
    .addHelpText('after', '\nExamples:\n  xception weights convert imagenet web_model --quantize float16\n  xception weights convert imagenet models --to onnx\n  xception weights convert imagenet xception.keras --to keras\n  xception weights convert imagenet public/xception --to web --quantize float16')
    .action(async (input: string, outDir: string, o: { quantize?: 'float16' | 'uint8' | 'uint16'; top?: boolean; to?: 'tfjs' | 'onnx' | 'keras' | 'web'; check?: boolean }) => {
      process.exitCode = await (await import('./commands/weights.js')).weightsConvert(input, outDir, o, say);
    });
}

export function buildProgram(): Command {
  const program = new Command()
    .name('xception')
    .description("Keras' Xception (ImageNet) over folders of photos, from a laptop to a GPU cluster.")
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(`xception: ${text.replace(/^error: /, '')}`) })
    // Before any subcommand is added, so that they inherit it: usage errors exit 2, not 1.
    .exitOverride()
    .version(packageVersion(), '-V, --version', 'the version of xception')
    .addHelpText('after', `${ENVIRONMENT_HELP}\n${EXIT_CODES_HELP}`);
  imagesCommand(program, 'classify', 'Classify images into the 1000 ImageNet classes', [
    '  xception classify ~/Pictures --recursive --out tags.jsonl',
    "  xception classify 'photos/**/*.jpg' --out tags.csv --top-k 3",
    '  find /data -name "*.jpg" | xception classify - --out tags.jsonl --log-format json',
    '  xception classify /data --recursive --out tags.jsonl --shard 0/4',
    '  xception classify /data --recursive --out tags.parquet     (written from tags.parquet.journal.jsonl when the run ends)',
  ].join('\n'));
  imagesCommand(program, 'embed', "Write each image's 2048-d pooled features, for similarity search", [
    '  xception embed ~/Pictures --recursive --out features.npy     (features.npy + features.paths.txt)',
    '  xception embed ~/Pictures --recursive --out features.parquet (path, embedding: fixed-size list of 2048 float32)',
    '  xception embed ~/Pictures --recursive --out features.jsonl',
  ].join('\n'));
  tagCommand(program);
  trainCommand(program);
  predictAndMergeCommands(program);
  weightsCommands(program);
  program.command('quantize').summary('Calibrate the int8 model of the weights on your photos, for --precision int8')
    .description('Runs 64 to 256 photos of --calibrate through the fp32 model, writes the QDQ int8 model (per-channel int8 weights,\n' +
      'uint8 activations over the ranges the photos produced), checks it against fp32 on a quarter of the photos held out, and caches it\n' +
      'beside the ONNX exports, where classify, embed, tag and predict --precision int8 find it. Below 98% top-1 agreement it is refused.')
    .requiredOption('-w, --weights <source>', "'imagenet', a .keras / .h5 / model.json path or URL, or 'none' (random, for testing)")
    .requiredOption('--calibrate <dir>', 'a folder of 64 to 256 typical photos (walked recursively; the first 256 are taken)')
    .option('--image-size <n>', 'model input side (as you will classify with)', positiveInt('--image-size'))
    .option('-t, --threads <n>', "onnxruntime's intra-op threads (default: CPUs)", positiveInt('--threads'))
    .addHelpText('after', '\nExample:\n  xception quantize --weights imagenet --calibrate ~/Pictures/sample\n  xception classify ~/Pictures --recursive --precision int8 --out tags.jsonl')
    .action(async (o: QuantizeOptions) => { process.exitCode = await (await import('./commands/quantize.js')).quantizeCommand(o, say); });
  program.command('doctor').summary('Which engines load here, whether the GPU can be used, which weights are cached')
    .option('--json', 'one JSON object: { ok, node, findings: [{ check, ok, detail }] }', false)
    .action(async (o: { json: boolean }) => { process.exitCode = await (await import('./commands/doctor.js')).doctorCommand(print, o); });
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (thrown) {
    // @xception/runtime's errors, said in flags (the one place the CLI re-words them).
    const error = inFlagWords(thrown);
    if (error instanceof CommanderError) {
      // commander has printed the message (or the help) already.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (error instanceof CliError) {
      process.stderr.write(`xception: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    // Typed errors from the packages carry a code and a one-sentence message: no stack trace.
    const e = error as { code?: unknown; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('ERR_')) {
      process.stderr.write(`xception: ${e.message}\n`);
      process.exitCode = EXIT.error;
      return;
    }
    process.stderr.write(`xception: unexpected error, please report it: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT.error;
  }
}

await main(process.argv);
