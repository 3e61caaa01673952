import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { classNameProblem, expectedWeights, kerasInitialWeights, resolveXceptionConfig, seededRandom, type WeightValues } from '@xception/core';
import { activateBackend, type EngineChoice, type InferenceEngine } from '@xception/engines';
import {
  adaptNormalization, createDenseHead, createTrainingGraph, ensureGradients, fit, foldHead, readCheckpointFile, writeCheckpointFile,
  type FitOptions, type OptimizerOptions, type TrainableFrom,
} from '@xception/training';
import { preprocessInput } from '@xception/vision-utils';
import { loadImage } from '@xception/vision-utils/node';
import { writeKerasArchive } from '@xception/weights';
import { CliError, EXIT } from '../cli-error.js';
import { openModel } from '@xception/runtime';
import { makeOutputFolder } from '@xception/batch';
import { inOutputWords } from '../output-words.js';
import { createProgressReporter } from '../progress-reporter.js';
import { loadWeightValues } from '../load-weights.js';

export interface TrainOptions {
  data: string;
  out: string;
  epochs: number;
  lr?: number;
  weightDecay: number;
  valSplit: number;
  batchSize: number;
  optimizer: 'adam' | 'sgd';
  patience?: number;
  weights: string;
  engine: EngineChoice;
  imageSize: number;
  threads?: number;
  seed: number;
  quiet: boolean;
  /** After the head: fine-tune from this block on (BatchNorm in training mode). */
  fineTuneFrom?: TrainableFrom;
  fineTuneEpochs: number;
  fineTuneLr: number;
}

/** Keras' image_dataset_from_directory formats, and WebP. */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.gif', '.webp']);
const FEATURES = 2048;

interface Sample { path: string; label: number }

/** What the feature cache and checkpoint were made from: a resume with anything else starts afresh. */
interface Fingerprint { samples: string; weights: string; imageSize: number; options: string }

/**
 * `xception train`: one folder per class under --data (Keras' image_dataset_from_directory:
 * classes are the sub-folders in sorted order, files found recursively, the list shuffled with
 * --seed and the last --val-split of it held out). Features are computed once by the engine
 * (cached beside --out), a Normalization + Dense(softmax) head with L2 is trained on them with
 * Keras' fit() semantics, each epoch is checkpointed (a killed run resumes), and the model is
 * written as Xception(classes=N) in a Keras 3 .keras archive with the class names.
 */
export async function trainCommand(o: TrainOptions, say: (line: string) => void): Promise<number> {
  return train(o, say).catch((error: unknown) => { throw inOutputWords(error, '--out', o.out); });
}

async function train(o: TrainOptions, say: (line: string) => void): Promise<number> {
  const log = (line: string): void => { if (!o.quiet) say(line); };
  if (!/\.keras$/i.test(o.out)) throw new CliError('ERR_TRAIN_OUT', `--out ${o.out} must name a Keras 3 .keras file (model.keras).`, EXIT.usage);
  if (!(o.valSplit >= 0 && o.valSplit < 1)) throw new CliError('ERR_TRAIN_OPTION', `--val-split must be at least 0 and below 1; got ${o.valSplit}.`, EXIT.usage);
  const { classNames, samples } = await listDataset(o.data, o.seed);
  const work = `${o.out}.training`;
  await makeOutputFolder(work);

  const baseConfig = resolveXceptionConfig({ weights: null, includeTop: false, pooling: 'avg', inputShape: [o.imageSize, o.imageSize, 3] });
  const base: WeightValues = o.weights === 'none'
    ? kerasInitialWeights(expectedWeights(baseConfig), o.seed)
    : (await loadWeightValues(o.weights, { includeTop: false }))!;
  const fingerprint: Fingerprint = {
    samples: hash(samples.map((s) => `${s.label}\t${s.path}`).join('\n')),
    weights: o.weights === 'none' ? `none:${o.seed}` : o.weights,
    imageSize: o.imageSize,
    options: JSON.stringify([o.epochs, o.lr, o.weightDecay, o.valSplit, o.batchSize, o.optimizer, o.patience, o.seed, o.fineTuneFrom, o.fineTuneEpochs, o.fineTuneLr]),
  };
  const features = await cachedFeatures(work, fingerprint, samples, base, o, log);

  await activateBackend('cpu');
  const count = samples.length;
  const trainCount = o.valSplit > 0 ? Math.floor(count * (1 - o.valSplit)) : count;
  if (trainCount < 1 || (trainCount === count && o.valSplit > 0)) {
    throw new CliError('ERR_TRAIN_DATA', `--val-split ${o.valSplit} of ${count} images leaves ${trainCount < 1 ? 'nothing to train on' : 'nothing to validate on'}; add images or change --val-split.`, EXIT.usage);
  }
  const normalization = adaptNormalization(features.subarray(0, trainCount * FEATURES), trainCount, FEATURES);
  const head = createDenseHead({ classes: classNames.length, normalization, l2: o.weightDecay, seed: o.seed });
  const x = tf.tensor2d(features, [count, FEATURES]);
  const checkpointPath = join(work, 'checkpoint.bin');
  const checkpoint = await readCheckpointFile<Fingerprint>(checkpointPath).catch(() => null);
  const resume = checkpoint && JSON.stringify(checkpoint.meta) === JSON.stringify(fingerprint) ? checkpoint.state : undefined;
  if (resume) log(`resuming from the checkpoint after epoch ${resume.epoch} (${checkpointPath})`);
  const optimizer: OptimizerOptions = o.optimizer === 'sgd'
    ? { kind: 'sgd', learningRate: o.lr ?? 0.01, momentum: 0.9 }
    : { kind: 'adam', learningRate: o.lr ?? 0.001 };
  try {
    const { history } = await fit(head, x, Int32Array.from(samples, (s) => s.label), {
      epochs: o.epochs,
      batchSize: o.batchSize,
      optimizer,
      validationSplit: o.valSplit,
      seed: o.seed,
      ...(o.patience !== undefined ? { earlyStopping: { monitor: o.valSplit > 0 ? 'val_loss' : 'loss', patience: o.patience, restoreBestWeights: true } } : {}),
      ...(resume ? { resumeFrom: resume } : {}),
      onEpochEnd: async (entry, state) => {
        const val = entry.val_loss === undefined ? '' : `, val_loss ${entry.val_loss.toFixed(4)}, val_accuracy ${entry.val_accuracy!.toFixed(4)}`;
        log(`epoch ${entry.epoch + 1}/${o.epochs}: loss ${entry.loss.toFixed(4)}, accuracy ${entry.accuracy.toFixed(4)}${val}`);
        await writeCheckpointFile(checkpointPath, state(), fingerprint);
        if (process.env.XCEPTION_TEST_KILL_AFTER_EPOCH && Number(process.env.XCEPTION_TEST_KILL_AFTER_EPOCH) === entry.epoch + 1) process.kill(process.pid, 'SIGKILL');
      },
    });
    const folded = foldHead({ normalization, kernel: head.kernel.dataSync() as Float32Array, bias: head.bias.dataSync() as Float32Array });
    const config = resolveXceptionConfig({ weights: null, classes: classNames.length, inputShape: [o.imageSize, o.imageSize, 3] });
    let values: WeightValues = new Map([...base,
      ['predictions/kernel', { shape: [FEATURES, classNames.length], values: folded.kernel }],
      ['predictions/bias', { shape: [classNames.length], values: folded.bias }]]);
    if (o.fineTuneFrom) values = await fineTune(o, config, values, samples, { fingerprint, work, log, validationSplit: o.valSplit });
    await writeKerasArchive(o.out, { config, values, classNames });
    const last = history.at(-1);
    say(`trained ${classNames.length} classes (${classNames.join(', ')}) on ${trainCount} images${count > trainCount ? `, validated on ${count - trainCount}` : ''}`
      + `${last?.val_accuracy !== undefined ? `: val_accuracy ${last.val_accuracy.toFixed(4)}` : ''}; model in ${o.out}`);
  } finally {
    x.dispose();
    head.dispose();
  }
  await rm(work, { recursive: true, force: true });
  return EXIT.ok;
}

async function listDataset(dir: string, seed: number): Promise<{ classNames: string[]; samples: Sample[] }> {
  // Names as bytes: a folder name that is not UTF-8 would otherwise be decoded lossily and not found again.
  const entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' }).catch(() => {
    throw new CliError('ERR_TRAIN_DATA', `--data ${dir} is not a readable folder; pass a folder with one sub-folder of images per class.`, EXIT.usage);
  });
  const classNames = entries.filter((e) => e.isDirectory() && e.name[0] !== 0x2e).map((e) => classNameOf(dir, e.name)).sort();
  if (classNames.length < 2) throw new CliError('ERR_TRAIN_DATA', `--data ${dir} holds ${classNames.length} class folder(s); put each class's images in its own sub-folder (at least 2).`, EXIT.usage);
  const samples: Sample[] = [];
  for (const [label, name] of classNames.entries()) {
    const files = (await walk(join(dir, name))).sort();
    if (files.length === 0) throw new CliError('ERR_TRAIN_DATA', `--data class folder ${join(dir, name)} has no images (${[...IMAGE_EXTENSIONS].join(' ')}); add some or remove the folder.`, EXIT.usage);
    for (const path of files) samples.push({ path, label });
  }
  // image_dataset_from_directory shuffles the file list (seeded) before the validation split.
  const random = seededRandom(seed);
  for (let i = samples.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [samples[i], samples[j]] = [samples[j]!, samples[i]!];
  }
  return { classNames, samples };
}

/** A class folder's name, checked once here: every later use (the .keras file, tags, sidecars) trusts it. */
function classNameOf(dir: string, raw: Buffer): string {
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new CliError('ERR_TRAIN_DATA', `--data class folder ${JSON.stringify(raw.toString('latin1'))} in ${dir} has a name that is not UTF-8; rename it (class names become keywords).`, EXIT.usage);
  }
  const problem = classNameProblem(name);
  if (problem) throw new CliError('ERR_TRAIN_DATA', `--data class folder ${JSON.stringify(name)} in ${dir} ${problem}; rename it (class names become keywords).`, EXIT.usage);
  return name;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await walk(path));
    else if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) out.push(path);
  }
  return out;
}

/** The pooled features of every sample, computed once and kept in the work folder for a resumed run. */
async function cachedFeatures(work: string, fingerprint: Fingerprint, samples: Sample[], base: WeightValues, o: TrainOptions, log: (line: string) => void): Promise<Float32Array> {
  const featuresPath = join(work, 'features.f32');
  const metaPath = join(work, 'features.json');
  const key = JSON.stringify({ samples: fingerprint.samples, weights: fingerprint.weights, imageSize: fingerprint.imageSize });
  const cached = await readFile(metaPath, 'utf8').catch(() => null);
  if (cached === key && (await stat(featuresPath).catch(() => null))?.size === samples.length * FEATURES * 4) {
    log(`features of ${samples.length} images read from ${featuresPath}`);
    const bytes = await readFile(featuresPath);
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  const { engine } = await openModel(null, {
    engine: o.engine, includeTop: false, pooling: 'avg', imageSize: o.imageSize, values: base, log, ...(o.threads ? { threads: o.threads } : {}),
  });
  const features = new Float32Array(samples.length * FEATURES);
  const started = performance.now();
  // The feature pass is most of a run's time (minutes for thousands of photos): a bar on a
  // terminal, a line every few seconds in a log, as classify reports its images.
  const progress = createProgressReporter({ quiet: o.quiet, format: 'text', doing: 'computing features' });
  progress.setTotal(samples.length);
  try {
    log(`computing the features of ${samples.length} images with ${engine.detail}`);
    const side = o.imageSize;
    for (let start = 0; start < samples.length; start += o.batchSize) {
      const batch = samples.slice(start, start + o.batchSize);
      const pixels = await loadPixels(batch, side);
      const result = await engine.run({ pixels, count: batch.length, height: side, width: side });
      features.set(result.features, start * FEATURES);
      const done = start + batch.length;
      progress.update({ done, ok: done, failed: 0, skipped: 0 });
    }
  } finally {
    progress.finish({ message: `features of ${samples.length} images in ${((performance.now() - started) / 1000).toFixed(1)} s` });
    await engine.dispose();
  }
  await writeFile(featuresPath, features);
  await writeFile(metaPath, key);
  return features;
}

async function loadPixels(batch: readonly Sample[], side: number): Promise<Uint8Array> {
  const images = await Promise.all(batch.map((s) => loadImage(s.path, { size: side }).catch((error: unknown) => {
    throw new CliError('ERR_TRAIN_IMAGE', `--data image ${s.path} could not be read (${(error as Error).message}); fix or remove it.`);
  })));
  const pixels = new Uint8Array(batch.length * side * side * 3);
  images.forEach((image, i) => pixels.set(image.pixels, i * side * side * 3));
  return pixels;
}

/**
 * --fine-tune-from: Xception in training form from that block on (BatchNorm in inference mode), started from the base and the
 * trained head, fit on the activations entering that block (the frozen part runs once per image,
 * kept in memory), Adam at --fine-tune-lr, checkpointed per epoch like the head.
 */
async function fineTune(
  o: TrainOptions, config: ReturnType<typeof resolveXceptionConfig>, values: WeightValues, samples: readonly Sample[],
  c: { fingerprint: Fingerprint; work: string; log: (line: string) => void; validationSplit: number },
): Promise<WeightValues> {
  await ensureGradients();
  await activateBackend('wasm');
  // BatchNorm in inference mode (Keras' fine-tuning guide), and no L2: --weight-decay weighed the
  // head's kernel before Normalization was folded into it, and Xception's own layers have none.
  const graph = createTrainingGraph({ config, values, trainableFrom: o.fineTuneFrom!, batchNorm: 'inference' });
  const parts: tf.Tensor[] = [];
  let boundary: tf.Tensor | null = null;
  try {
    for (let start = 0; start < samples.length; start += o.batchSize) {
      const batch = samples.slice(start, start + o.batchSize);
      const pixels = await loadPixels(batch, o.imageSize);
      parts.push(tf.tidy(() => graph.frozenForward(tf.tensor4d(preprocessInput(pixels), [batch.length, o.imageSize, o.imageSize, 3]))));
    }
    boundary = tf.concat(parts);
    tf.dispose(parts);
    c.log(`fine-tuning ${graph.trainableLayers.length} layers from ${o.fineTuneFrom} on the ${graph.boundary} activations of ${samples.length} images`);
    const checkpointPath = join(c.work, 'fine-tune-checkpoint.bin');
    const checkpoint = await readCheckpointFile<Fingerprint>(checkpointPath).catch(() => null);
    const resume = checkpoint && JSON.stringify(checkpoint.meta) === JSON.stringify(c.fingerprint) ? checkpoint.state : undefined;
    if (resume) c.log(`resuming fine-tuning from the checkpoint after epoch ${resume.epoch}`);
    const options: FitOptions = {
      epochs: o.fineTuneEpochs, batchSize: o.batchSize, optimizer: { kind: 'adam', learningRate: o.fineTuneLr }, validationSplit: c.validationSplit, seed: o.seed,
      ...(resume ? { resumeFrom: resume } : {}),
      onEpochEnd: async (entry, state) => {
        const val = entry.val_loss === undefined ? '' : `, val_loss ${entry.val_loss.toFixed(4)}, val_accuracy ${entry.val_accuracy!.toFixed(4)}`;
        c.log(`fine-tune epoch ${entry.epoch + 1}/${o.fineTuneEpochs}: loss ${entry.loss.toFixed(4)}, accuracy ${entry.accuracy.toFixed(4)}${val}`);
        await writeCheckpointFile(checkpointPath, state(), c.fingerprint);
      },
    };
    await fit(graph, boundary, Int32Array.from(samples, (s) => s.label), options);
    return graph.values();
  } finally {
    tf.dispose(parts.filter((t) => !t.isDisposed));
    boundary?.dispose();
    graph.dispose();
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
