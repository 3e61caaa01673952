import cliProgress from 'cli-progress';
import type { ProgressCallback } from '@xception/weights';

/**
 * The CLI's download bar: @xception/weights reports progress through a callback and draws
 * nothing, so the terminal code lives here. A bar on stderr when it is a terminal; nothing in a
 * pipe or a CI log (no escape codes there).
 */
export function downloadBar(stream: NodeJS.WriteStream = process.stderr): { onProgress: ProgressCallback; stop(): void } {
  if (!stream.isTTY) return { onProgress: () => undefined, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: 'Downloading {file} [{bar}] {percentage}% | {done}/{all} MB', stream, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  return {
    onProgress(event) {
      if (event.phase !== 'download' || event.totalBytes === null) return;
      const fields = { file: (event.target ?? '').replace(/^.*\//, ''), done: mb(event.bytes), all: mb(event.totalBytes) };
      if (!started) { bar.start(event.totalBytes, 0, fields); started = true; }
      bar.update(event.bytes, fields);
    },
    stop() { if (started) bar.stop(); },
  };
}

/** Runs `work` with the download bar, and stops the bar however it ends. */
export async function withDownloadBar<T>(work: (onProgress: ProgressCallback) => Promise<T>): Promise<T> {
  const bar = downloadBar();
  try {
    return await work(bar.onProgress);
  } finally {
    bar.stop();
  }
}
