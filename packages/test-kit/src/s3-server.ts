import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './shared-data.js';

/**
 * A real S3 server for the tests: Ceph's radosgw on 127.0.0.1:7480, started by
 * scripts/services/s3.sh (which installs Ceph with apt when missing, and returns at once when the
 * server is already up, so each test file may call it). It stays up after the tests, for the next
 * run; `scripts/services/s3.sh stop` removes it.
 */
export interface S3Server {
  /** AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and the two checksum variables. */
  readonly env: Readonly<Record<string, string>>;
}

/** The line a skipped test prints: why there is no S3 server here. */
export function SKIP_NO_S3(reason: string): string {
  return `skipped: no S3 server (scripts/services/s3.sh start: ${reason}); it needs Ceph's radosgw (apt-get install ceph-mon ceph-osd ceph-common radosgw, as root)`;
}

let started: S3Server | { skip: string } | undefined;

/** The running S3 server, started if needed (once per test worker), or why it cannot start. */
export function s3Server(): S3Server | { skip: string } {
  started ??= startS3Server();
  return started;
}

function startS3Server(): S3Server | { skip: string } {
  // scripts/test.sh tried already in its set-up and says why it failed: not tried again per file.
  if (process.env.XCEPTION_NO_S3) return { skip: SKIP_NO_S3(process.env.XCEPTION_NO_S3) };
  const root = repoRoot();
  if (!root) return { skip: SKIP_NO_S3('the checkout holding scripts/services/s3.sh was not found') };
  // Installing Ceph takes ~50 s and a fresh start ~20 s on a busy machine: 5 min leaves room.
  const run = spawnSync('bash', [join(root, 'scripts/services/s3.sh'), 'start'], { encoding: 'utf8', timeout: 300_000 });
  const env = Object.fromEntries([...run.stdout.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  if (run.status !== 0 || !env.AWS_ENDPOINT_URL) {
    const reason = run.error?.message ?? (run.stderr.trim().split('\n').at(-1) || `exit ${run.status}`);
    return { skip: SKIP_NO_S3(reason) };
  }
  return { env };
}
