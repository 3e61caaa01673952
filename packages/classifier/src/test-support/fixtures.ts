import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { fileURLToPath } from 'node:url';
import { sharedPath } from '@xception/test-kit';
import { saneRandomWeights } from '@xception/core/testing';
import { writeKerasArchive, writeTfjsArtifacts } from '@xception/weights';
import sharp from 'sharp';

const run = promisify(execFile);

/** Tests run at Xception's smallest input. */
export const SIZE = 71;
export const SEED = 13;

/** Five real photos (../shared), one per class, two of them greyscale-free colour JPEGs; null when absent. */
export function sharedPhotos(): string[] | null {
  const dir = sharedPath('images', 'imagenet-samples');
  if (!dir) return null;
  return ['n01440764_tench.JPEG', 'n01498041_stingray.JPEG', 'n01532829_house_finch.JPEG', 'n01582220_magpie.JPEG', 'n01622779_great_grey_owl.JPEG'].map((f) => join(dir, f));
}

/** Seeded sane random weights for a 71x71 Xception with the ImageNet top, as tfjs artifacts (model.json + shards). */
export async function writeSeededArtifacts(outDir: string, classes = 1000): Promise<{ modelJson: string; values: ReturnType<typeof saneRandomWeights> }> {
  const config = resolveXceptionConfig({ includeTop: true, classes, inputShape: [SIZE, SIZE, 3], weights: 'seeded' });
  const values = saneRandomWeights(expectedWeights(config), SEED);
  const report = await writeTfjsArtifacts({ outDir, config, values });
  return { modelJson: report.modelJson, values };
}

/** The built `xception` CLI (apps/worker/dist/cli.js), as users run it. */
export function cliPath(): string {
  return join(REPO_ROOT, 'apps', 'worker', 'dist', 'cli.js');
}

/** The checkout's root (this file is packages/classifier/src/test-support/fixtures.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface CliTopRow { path: string; top: Array<{ index: number; wnid: string; label: string; score: number }> }
export interface CliEmbedRow { path: string; features: number[] }

/** `xception classify|embed <photos> --weights <w> --image-size 71 --out <file>.jsonl`: its rows by path. */
export async function runCli<Row extends { path: string }>(kind: 'classify' | 'embed', photos: readonly string[], weights: string, out: string, home: string): Promise<Map<string, Row>> {
  await run(process.execPath, [cliPath(), kind, ...photos, '--weights', weights, '--image-size', String(SIZE), '--out', out, '--quiet'], {
    env: { ...process.env, XCEPTION_HOME: home },
  });
  const rows = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Row);
  return new Map(rows.map((r) => [r.path, r]));
}

export interface Fixture {
  /** A temporary folder for this test file. */
  dir: string;
  /** XCEPTION_HOME of the CLI runs (the ONNX export it caches is there). */
  home: string;
  modelJson: string;
  values: Awaited<ReturnType<typeof writeSeededArtifacts>>['values'];
  /** sharedPhotos()[4] as a 71x71 PNG: the same pixels whichever decoder reads it (sharp, Chromium). */
  png: string;
  /** `xception classify` on sharedPhotos() and the PNG. */
  cliTop: Map<string, CliTopRow>;
}

let made: Promise<Fixture> | null = null;

/** The seeded weights as a `--to web` model folder, and the CLI's top-5 for it, made once per test file. */
export function classifierFixture(): Promise<Fixture> {
  made ??= (async () => {
    const photos = sharedPhotos()!;
    const dir = mkdtempSync(join(tmpdir(), 'xception-classifier-'));
    const home = join(dir, 'home');
    const png = join(dir, 'photo.png');
    const config = resolveXceptionConfig({ includeTop: true, inputShape: [SIZE, SIZE, 3], weights: 'seeded' });
    const values = saneRandomWeights(expectedWeights(config), SEED);
    const seeded = join(dir, 'seeded.keras'); // a .keras archive keeps its 71x71 input shape through the conversion
    await Promise.all([
      writeKerasArchive(seeded, { config, values }),
      sharp(photos[4]!).resize(SIZE, SIZE, { fit: 'fill' }).png().toFile(png),
    ]);
    // The folder users host: `xception weights convert … --to web`, by the built CLI.
    await run(process.execPath, [cliPath(), 'weights', 'convert', seeded, join(dir, 'web'), '--to', 'web', '--no-check'], { env: { ...process.env, XCEPTION_HOME: home } });
    const modelJson = join(dir, 'web', 'model.json');
    const cliTop = await runCli<CliTopRow>('classify', [...photos, png], modelJson, join(dir, 'top.jsonl'), home);
    return { dir, home, modelJson, values, png, cliTop };
  })();
  return made;
}

export async function removeClassifierFixture(): Promise<void> {
  if (!made) return;
  const { dir } = await made.catch(() => ({ dir: null }));
  if (dir) rmSync(dir, { recursive: true, force: true });
}
