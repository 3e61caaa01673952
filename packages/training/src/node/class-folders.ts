import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { classNameProblem, seededRandom } from '@xception/core';
import { TrainingError } from './training-error.js';

/** Keras' image_dataset_from_directory formats, and WebP. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.gif', '.webp']);

/** One image of the dataset and its class (the index of its folder in sorted order). */
export interface Sample { path: string; label: number }

export interface ClassFolders {
  classNames: string[];
  /** Every image, shuffled with the seed (the last validationSplit of it is held out). */
  samples: Sample[];
}

/**
 * Keras' image_dataset_from_directory: the classes are the sub-folders of `dir` in sorted order
 * (hidden ones left out), their images found recursively, and the list shuffled with `seed`
 * before the validation split. Each class name is checked here, once: every later use (the
 * .keras file, tags, sidecars) trusts it.
 */
export async function listClassFolders(dir: string, seed: number): Promise<ClassFolders> {
  // Names as bytes: a folder name that is not UTF-8 would otherwise be decoded lossily and not found again.
  const entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' }).catch(() => {
    throw new TrainingError('ERR_TRAIN_DATA', 'data', (w) => `${w.option('data', dir)} is not a readable folder; pass a folder with one sub-folder of images per class.`);
  });
  const classNames = entries.filter((e) => e.isDirectory() && e.name[0] !== 0x2e).map((e) => classNameOf(dir, e.name)).sort();
  if (classNames.length < 2) {
    throw new TrainingError('ERR_TRAIN_DATA', 'data', (w) => `${w.option('data', dir)} holds ${classNames.length} class folder(s); put each class's images in its own sub-folder (at least 2).`);
  }
  const samples: Sample[] = [];
  for (const [label, name] of classNames.entries()) {
    const files = (await imagesUnder(join(dir, name))).sort();
    if (files.length === 0) {
      throw new TrainingError('ERR_TRAIN_DATA', 'data', (w) => `${w.name('data')} class folder ${join(dir, name)} has no images (${[...IMAGE_EXTENSIONS].join(' ')}); add some or remove the folder.`);
    }
    for (const path of files) samples.push({ path, label });
  }
  const random = seededRandom(seed);
  for (let i = samples.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [samples[i], samples[j]] = [samples[j]!, samples[i]!];
  }
  return { classNames, samples };
}

function classNameOf(dir: string, raw: Buffer): string {
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new TrainingError('ERR_TRAIN_DATA', 'data', (w) =>
      `${w.name('data')} class folder ${JSON.stringify(raw.toString('latin1'))} in ${dir} has a name that is not UTF-8; rename it (class names become keywords).`);
  }
  const problem = classNameProblem(name);
  if (problem) throw new TrainingError('ERR_TRAIN_DATA', 'data', (w) => `${w.name('data')} class folder ${JSON.stringify(name)} in ${dir} ${problem}; rename it (class names become keywords).`);
  return name;
}

async function imagesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await imagesUnder(path));
    else if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) out.push(path);
  }
  return out;
}
