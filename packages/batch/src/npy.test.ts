import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readNpy, writeNpy } from './npy.js';

const hasNumpy = (() => {
  try { execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }); return true; } catch { return false; }
})();
if (!hasNumpy) console.warn('skipped: python3 with numpy is not installed; it is the independent .npy reader and writer here');
const dir = mkdtempSync(join(tmpdir(), 'xception-npy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const python = (code: string): string => execFileSync('python3', ['-c', code], { encoding: 'utf8' });

describe.skipIf(!hasNumpy)('.npy against NumPy', () => {
  test('NumPy reads what we write', async () => {
    const path = join(dir, 'ours.npy');
    await writeNpy(path, { data: Float32Array.from({ length: 24 }, (_, i) => i / 3 - 2), shape: [2, 3, 4] });
    const out = python(`import numpy as np; a = np.load(${JSON.stringify(path)}); print(a.dtype, a.shape, repr(float(a[1, 2, 3])), repr(float(a.sum())))`);
    expect(out.trim()).toBe(`float32 (2, 3, 4) ${Math.fround(23 / 3 - 2)} ${python(`import numpy as np; print(repr(float((np.arange(24, dtype=np.float32) / np.float32(3) - np.float32(2)).sum())))`).trim()}`);
  });

  test('we read what NumPy writes: float32, float64, and a version 2.0 header', async () => {
    const f32 = join(dir, 'f32.npy');
    const f64 = join(dir, 'f64.npy');
    const v2 = join(dir, 'v2.npy');
    python(`import numpy as np
a = (np.arange(60, dtype=np.float32).reshape(1, 4, 5, 3) / 7).astype(np.float32)
np.save(${JSON.stringify(f32)}, a); np.save(${JSON.stringify(f64)}, a.astype(np.float64))
from numpy.lib import format as F
with open(${JSON.stringify(v2)}, 'wb') as f: F.write_array(f, a, version=(2, 0))`);
    for (const path of [f32, f64, v2]) {
      const x = await readNpy(path);
      expect(x.shape).toEqual([1, 4, 5, 3]);
      expect(x.data[59]).toBe(Math.fround(Math.fround(59) / 7));
    }
  });

  test('bad files get a clear error', async () => {
    const ints = join(dir, 'ints.npy');
    python(`import numpy as np; np.save(${JSON.stringify(ints)}, np.arange(4, dtype=np.int64))`);
    await expect(readNpy(ints)).rejects.toThrow(`${ints} is not a float32 .npy array NumPy can write: its dtype is <i8, not float32 ('<f4') or float64 ('<f8'); save it with np.save(path, x.astype(np.float32)).`);
    const text = join(dir, 'text.npy');
    writeFileSync(text, 'hello');
    await expect(readNpy(text)).rejects.toThrow('the file does not start with the .npy magic string');
  });
});
