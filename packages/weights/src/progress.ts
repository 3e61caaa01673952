import cliProgress from 'cli-progress';

/** What long operations report: which phase, and bytes done of the total when known. */
export interface ProgressEvent {
  phase: 'download' | 'verify' | 'read' | 'convert' | 'done';
  bytes: number;
  totalBytes: number | null;
  /** The file or URL concerned. */
  target?: string;
}

export type ProgressCallback = (event: ProgressEvent) => void;

/**
 * The callback to use: the caller's, else a cli-progress bar on stderr when it is a terminal
 * (so a CLI shows progress and a pipe or CI log gets no escape codes), else nothing.
 */
export function progressReporter(callback: ProgressCallback | undefined, label: string): { report: ProgressCallback; stop(): void } {
  if (callback) return { report: callback, stop() {} };
  if (!process.stderr.isTTY) return { report() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {done}/{all} MB`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  return {
    report(event) {
      if (event.phase !== 'download' || event.totalBytes === null) return;
      if (!started) { bar.start(event.totalBytes, 0, { done: mb(0), all: mb(event.totalBytes) }); started = true; }
      bar.update(event.bytes, { done: mb(event.bytes), all: mb(event.totalBytes) });
    },
    stop() { if (started) bar.stop(); },
  };
}
