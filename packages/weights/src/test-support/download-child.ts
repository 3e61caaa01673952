// Run as a separate process by imagenet-weights.test.ts: one of two processes fetching into the
// same cache at once. Arguments: JSON { cacheDir, registry }.
import { fetchImagenetWeights } from '../imagenet-weights.js';

const { cacheDir, registry } = JSON.parse(process.argv[2]!);
fetchImagenetWeights({ cacheDir, registry, env: {} }).then(
  (path) => { process.stdout.write(JSON.stringify({ pid: process.pid, path })); },
  (error: Error) => { process.stdout.write(JSON.stringify({ pid: process.pid, error: error.message })); process.exitCode = 1; },
);
