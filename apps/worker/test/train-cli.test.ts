import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oraclePython, readNpy, runOraclePython, sharedPath, SKIP_NO_ORACLE_PYTHON, SKIP_NO_SHARED } from '@xception/test-kit';
import { preprocessInput } from '@xception/vision-utils';
import { loadImage } from '@xception/vision-utils/node';
import { readKerasArchive } from '@xception/weights';
import { jsonl, REPO, runCli, startCli } from '@xception/test-kit/worker-cli';

/**
 * `xception train` end to end, as users run it, without ImageNet weights (seeded random base,
 * 71x71): the task is well-exposed photos against underexposed copies (pixels x 0.4) of them,
 * made from ../shared's ImageNet samples into a temporary folder. 30 photos train, 20 others are
 * held out and never seen. A run is killed with SIGKILL after epoch 3 and resumed. Real Keras
 * loads the .keras file.
 */
const photos = sharedPath('images', 'imagenet-samples');
const python = oraclePython();
// One wasm thread: each thread of the pool loads its own backend and weights, which costs more
// than these few 71x71 images gain from a second one.
const WASM = ['--engine', 'wasm', '--threads', '1'];
const TRAIN = ['--weights', 'none', ...WASM, '--image-size', '71', '--epochs', '6', '--batch-size', '16', '--val-split', '0.2', '--seed', '3'];
type ScoredRow = { path: string; top: Array<{ index: number; label: string; score: number }> };

function labelsOf(rows: ScoredRow[]): { accuracy: number; labels: Set<string> } {
  let right = 0;
  const labels = new Set<string>();
  for (const row of rows) {
    labels.add(row.top[0]!.label);
    if (row.top[0]!.label === (row.path.includes('/underexposed/') ? 'underexposed' : 'photo')) right++;
  }
  return { accuracy: right / rows.length, labels };
}

describe.skipIf(!photos)(`xception train ${photos ? '' : SKIP_NO_SHARED}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-train-cli-'));
  const data = join(dir, 'data');
  const heldOut = join(dir, 'held-out');
  // Fine-tuning runs tfjs on the CPU: 4 photos a class show what it changes, in seconds.
  const small = join(dir, 'small');
  // classify's rows for the held-out photos, which Keras' load_model must reproduce.
  let heldOutRows: ScoredRow[] = [];

  beforeAll(async () => {
    const sharp = createRequire(join(REPO, 'packages/vision-utils/package.json'))('sharp') as typeof import('sharp').default;
    const files = readdirSync(photos!).filter((f) => /\.jpe?g$/i.test(f)).sort();
    const write = async (folder: string, names: string[]): Promise<void> => {
      mkdirSync(join(folder, 'photo'), { recursive: true });
      mkdirSync(join(folder, 'underexposed'), { recursive: true });
      for (const name of names) {
        const image = sharp(join(photos!, name)).resize(96, 96, { fit: 'fill' }).removeAlpha().toColourspace('srgb');
        const png = name.replace(/\.\w+$/, '.png');
        await image.clone().png().toFile(join(folder, 'photo', png));
        await image.clone().linear(0.4, 0).png().toFile(join(folder, 'underexposed', png));
      }
    };
    await write(data, files.slice(0, 30));
    await write(heldOut, files.slice(150, 170));
    await write(small, files.slice(0, 4));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a --data folder with one class is refused in one line, exit 2, before anything is computed', async () => {
    const one = join(dir, 'one-class');
    mkdirSync(join(one, 'only'), { recursive: true });
    const run = await runCli(['train', '--data', one, '--out', join(dir, 'never.keras'), '--weights', 'none']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`xception: --data ${one} holds 1 class folder(s); put each class's images in its own sub-folder (at least 2).`);
    expect(existsSync(join(dir, 'never.keras.training'))).toBe(false);
  });

  it('killed with SIGKILL after epoch 3, reruns from the checkpoint (fit.test.ts: a resumed fit ends as an uninterrupted one)', async () => {
    const out = join(dir, 'model.keras');
    const child = startCli(['train', '--data', data, '--out', out, ...TRAIN], { XCEPTION_TEST_KILL_AFTER_EPOCH: '3' });
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    const signal = await new Promise((resolve) => child.on('close', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    expect(stderr).toMatch(/epoch 3\/6: loss [\d.]+, accuracy [\d.]+, val_loss [\d.]+, val_accuracy [\d.]+/);
    expect(existsSync(join(`${out}.training`, 'checkpoint.bin'))).toBe(true);
    expect(existsSync(out)).toBe(false);

    const resumed = await runCli(['train', '--data', data, '--out', out, ...TRAIN]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('features of 60 images read from');
    expect(resumed.stderr).toContain('resuming from the checkpoint after epoch 3');
    expect(resumed.stderr).not.toMatch(/epoch [123]\/6/);
    expect(resumed.stderr).toMatch(/epoch 6\/6/);
    expect(resumed.stderr).toContain('trained 2 classes (photo, underexposed) on 48 images, validated on 12');
    expect(existsSync(`${out}.training`)).toBe(false);
    expect((await readKerasArchive(out)).classNames).toEqual(['photo', 'underexposed']);
  });

  it('classify --weights model.keras names results by the trained classes and gets >= 0.85 of the held-out photos right', async () => {
    const out = join(dir, 'held-out.jsonl');
    // No --image-size: the model was trained at 71x71 and says so in its config.json.
    const run = await runCli(['classify', heldOut, '--recursive', '--weights', join(dir, 'model.keras'), ...WASM, '--out', out, '-q']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(readFileSync(`${out}.model.json`, 'utf8'))).toMatchObject({ inputSize: 71 });
    const rows = jsonl<ScoredRow>(readFileSync(out, 'utf8'));
    expect(rows).toHaveLength(40);
    heldOutRows = rows;
    const { accuracy, labels } = labelsOf(rows);
    console.log(`xception train: held-out accuracy ${accuracy.toFixed(3)} on ${rows.length} images of 20 unseen photos`);
    expect([...labels].every((l) => l === 'photo' || l === 'underexposed')).toBe(true);
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
  });

  it('tag --weights model.keras writes the trained class names as sidecar keywords', async () => {
    const folder = join(heldOut, 'underexposed');
    const run = await runCli(['tag', folder, '--weights', join(dir, 'model.keras'), ...WASM, '--threshold', '0.5', '-q']);
    expect(run.code, run.stderr).toBe(0);
    const sidecars = readdirSync(folder).filter((f) => f.endsWith('.xmp')).map((f) => readFileSync(join(folder, f), 'utf8'));
    expect(sidecars.length).toBeGreaterThan(0);
    const tagged = sidecars.filter((x) => x.includes('<rdf:li>underexposed</rdf:li>')).length;
    expect(tagged / 20).toBeGreaterThanOrEqual(0.75);
    expect(sidecars.some((x) => x.includes("Xception|animal"))).toBe(false); // no ImageNet hierarchy for trained classes
  });

  it('--fine-tune-from block14 trains block 14 and the classifier on top of the head, and leaves the rest as it was', async () => {
    const out = join(dir, 'fine-tuned.keras');
    const run = await runCli(['train', '--data', small, '--out', out, ...TRAIN, '--fine-tune-from', 'block14', '--fine-tune-epochs', '1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('fine-tuning 5 layers from block14 on the block13_add activations of 8 images');
    expect(run.stderr).toMatch(/fine-tune epoch 1\/1: loss [\d.]+, accuracy [\d.]+, val_loss [\d.]+, val_accuracy [\d.]+/);
    const [tuned, head] = await Promise.all([readKerasArchive(out), readKerasArchive(join(dir, 'model.keras'))]);
    const same = (name: string): boolean => Buffer.from(tuned.values.get(name)!.values.buffer).equals(Buffer.from(head.values.get(name)!.values.buffer));
    expect(same('block13_sepconv2/pointwise_kernel')).toBe(true);
    expect(same('block14_sepconv2/pointwise_kernel')).toBe(false);
    expect(same('block14_sepconv2_bn/moving_mean')).toBe(true); // BatchNorm in inference mode
    expect(same('predictions/kernel')).toBe(false);
  });

  it.skipIf(!python)(`Keras' load_model reads the .keras file and predicts the scores classify wrote ${python ? '' : SKIP_NO_ORACLE_PYTHON}`, async () => {
    expect(heldOutRows, 'the classify case above ran').toHaveLength(40);
    const pngs = (folder: string): string[] => readdirSync(join(heldOut, folder)).filter((f) => f.endsWith('.png')).slice(0, 2).map((f) => join(heldOut, folder, f));
    const files = [...pngs('underexposed'), ...pngs('photo')];
    // The same decode as classify's (vision-utils' loadImage at the model's 71x71), preprocessed as Keras' 'tf' mode.
    const x = new Float32Array(files.length * 71 * 71 * 3);
    for (const [i, file] of files.entries()) x.set(preprocessInput((await loadImage(file, { size: 71 })).pixels), i * 71 * 71 * 3);
    writeFileSync(join(dir, 'x.f32'), x);
    const answer = JSON.parse(runOraclePython(python!, `
import sys, json, numpy as np, keras
d = sys.argv[1]
m = keras.models.load_model(d + '/model.keras')
x = np.fromfile(d + '/x.f32', dtype=np.float32).reshape(-1, 71, 71, 3)
np.save(d + '/keras.npy', np.asarray(m(x, training=False)).astype(np.float32))
print(json.dumps({'output': list(m.output_shape)}))
`, [dir]).trim().split('\n').at(-1)!);
    expect(answer.output).toEqual([null, 2]);
    const theirs = readNpy(join(dir, 'keras.npy')).data;
    let maxDiff = 0;
    for (const [i, file] of files.entries()) {
      const row = heldOutRows.find((r) => r.path === file)!;
      expect(row.top.map((p) => p.index).sort()).toEqual([0, 1]);
      for (const p of row.top) maxDiff = Math.max(maxDiff, Math.abs(p.score - theirs[i * 2 + p.index]!));
    }
    console.log(`xception train: max |classify - Keras load_model| ${maxDiff.toExponential(1)} over ${files.length} images`);
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
