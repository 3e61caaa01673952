import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './shared-data.js';

/**
 * The Python interpreter of the oracle environment that scripts/python-env.sh creates and links as
 * `.tools/python` (real Keras 3 on TensorFlow 2.21, h5py, Pillow, NumPy, pyarrow), or the one
 * XCEPTION_PYTHON names. Null when there is none, so that tests skip with SKIP_NO_ORACLE_PYTHON.
 */
export function oraclePython(): string | null {
  const fromEnv = process.env.XCEPTION_PYTHON;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  const root = repoRoot();
  const python = root ? join(root, '.tools', 'python', 'bin', 'python') : null;
  return python && existsSync(python) ? python : null;
}

export const SKIP_NO_ORACLE_PYTHON =
  'skipped: no oracle Python (.tools/python with Keras 3, h5py, NumPy, pyarrow); run `bash scripts/python-env.sh` or set XCEPTION_PYTHON';
