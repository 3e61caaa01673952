import { BatchError } from './batch-error.js';
import { hash64 } from './path-set.js';

/** Which part of the input this process handles: shard `index` of `count` (0-based). */
export interface Shard {
  readonly index: number;
  readonly count: number;
  /** Where the shard came from, for the log. */
  readonly source: string;
}

/**
 * The shard from `--shard i/n`, else from the scheduler: Kubernetes Indexed Jobs
 * (JOB_COMPLETION_INDEX, with the count in XCEPTION_SHARD_COUNT or JOB_COMPLETIONS, set in the
 * Job's env since Kubernetes does not export it) or Slurm job arrays (SLURM_ARRAY_TASK_ID, with
 * SLURM_ARRAY_TASK_COUNT and SLURM_ARRAY_TASK_MIN for arrays that do not start at 0).
 */
export function resolveShard(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Shard | null {
  if (flag !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flag.trim());
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) {
      throw new BatchError('ERR_SHARD_INVALID', (w) => `${w.option('shard')} must be i/n with 0 <= i < n, such as 0/4; received '${flag}'.`);
    }
    return { index: Number(m[1]), count: Number(m[2]), source: '--shard' };
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const count = env.XCEPTION_SHARD_COUNT ?? env.JOB_COMPLETIONS;
    if (count === undefined) {
      throw new BatchError('ERR_SHARD_INVALID', (w) => `JOB_COMPLETION_INDEX is set but the shard count is not: set XCEPTION_SHARD_COUNT (the Job's completions) in the Job's env, or pass ${w.option('shard', 'i/n')}.`);
    }
    return checked(Number(env.JOB_COMPLETION_INDEX), Number(count), 'Kubernetes Indexed Job');
  }
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    const count = env.SLURM_ARRAY_TASK_COUNT;
    if (count === undefined) {
      throw new BatchError('ERR_SHARD_INVALID', (w) => `SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass ${w.option('shard', 'i/n')}.`);
    }
    return checked(Number(env.SLURM_ARRAY_TASK_ID) - min, Number(count), 'Slurm array');
  }
  return null;
}

function checked(index: number, count: number, source: string): Shard {
  if (!Number.isInteger(index) || !Number.isInteger(count) || count < 1 || index < 0 || index >= count) {
    throw new BatchError('ERR_SHARD_INVALID', () => `The ${source} gives shard ${index} of ${count}, which is not a valid split; check the array or Job settings.`);
  }
  return { index, count, source };
}

/** Deterministic: a path's shard depends on the path alone, not on listing order or timing. */
export function inShard(path: string, shard: Shard | null): boolean {
  if (!shard || shard.count === 1) return true;
  return hash64(path)[0] % shard.count === shard.index;
}

/** `results.jsonl` with shard 2/8 becomes `results.shard-2-of-8.jsonl`. */
export function shardOutputPath(out: string, shard: Shard | null): string {
  if (!shard || shard.count === 1) return out;
  const dot = out.lastIndexOf('.');
  const slash = out.lastIndexOf('/');
  const tag = `.shard-${shard.index}-of-${shard.count}`;
  return dot > slash + 1 ? `${out.slice(0, dot)}${tag}${out.slice(dot)}` : `${out}${tag}`;
}
