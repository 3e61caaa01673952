import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Python interpreter of the oracle environment that scripts/python-env.sh creates at
 * `.tools/python` (real Keras 3 on TensorFlow 2.21, h5py, Pillow, NumPy, pyarrow), or the one
 * XCEPTION_PYTHON names. Null when there is none, so that tests skip with SKIP_NO_ORACLE_PYTHON.
 */
export function oraclePython(): string | null {
  const fromEnv = process.env.XCEPTION_PYTHON;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) {
      const python = join(dir, '.tools', 'python', 'bin', 'python');
      return existsSync(python) ? python : null;
    }
    dir = dirname(dir);
  }
  return null;
}

export const SKIP_NO_ORACLE_PYTHON =
  'skipped: no oracle Python (.tools/python with Keras 3, h5py, NumPy, pyarrow); run `bash scripts/python-env.sh` or set XCEPTION_PYTHON';
