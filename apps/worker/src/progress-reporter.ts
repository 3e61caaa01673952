import cliProgress from 'cli-progress';

export type LogFormat = 'text' | 'json';

export interface ProgressCounts { done: number; ok: number; failed: number; skipped: number }

/** What a long run tells a person (or a log collector) while it works, and at the end. */
export interface ProgressReporter {
  /** Total inputs, once the background count has finished (enables the ETA). */
  setTotal(total: number): void;
  update(counts: ProgressCounts): void;
  info(message: string): void;
  /** Printed even with --quiet: something the user should act on. */
  warn(message: string): void;
  finish(summary: Record<string, unknown> & { message: string }): void;
}

export interface ReporterOptions {
  quiet: boolean;
  format: LogFormat;
  /** Seconds between log lines when stderr is not a terminal (default $XCEPTION_PROGRESS_INTERVAL, else 5; 0: a line per update). */
  intervalSeconds?: number;
  /** What the bar says the run is doing. Default 'classifying'. */
  doing?: string;
  stream?: NodeJS.WriteStream;
}

/**
 * A progress bar with rate and ETA on a terminal; a one-line log every few seconds otherwise
 * (batch jobs, CI, Kubernetes logs); JSON lines with --log-format json; nothing but the
 * summary's absence with --quiet.
 */
export function createProgressReporter(options: ReporterOptions): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const started = Date.now();
  let total: number | null = null;
  let counts: ProgressCounts = { done: 0, ok: 0, failed: 0, skipped: 0 };
  const rate = (): number => counts.done / Math.max(1e-3, (Date.now() - started) / 1000);
  const emit = (event: string, fields: Record<string, unknown>, text: string, evenIfQuiet = false): void => {
    if (options.quiet && !evenIfQuiet) return;
    stream.write(options.format === 'json' ? `${JSON.stringify({ event, time: new Date().toISOString(), ...fields })}\n` : `${text}\n`);
  };

  const useBar = !options.quiet && options.format === 'text' && stream.isTTY === true;
  const bar = useBar
    ? new cliProgress.SingleBar({
      stream,
      format: `${options.doing ?? 'classifying'} {bar} {value}/{total} | {rate} img/s | {failed} failed | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
    }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(0, 0, { rate: '0.0', failed: 0 });

  const line = (): string => {
    const eta = total !== null && counts.done > 0 ? ` ETA ${formatSeconds((total - counts.done - counts.skipped) / rate())}` : '';
    return `progress: ${counts.done}${total !== null ? `/${total - counts.skipped}` : ''} images (${counts.failed} failed, ${counts.skipped} already done), ${rate().toFixed(1)} img/s${eta}`;
  };
  const fromEnv = Number(process.env.XCEPTION_PROGRESS_INTERVAL ?? Number.NaN);
  const interval = options.intervalSeconds ?? (Number.isFinite(fromEnv) && fromEnv >= 0 ? fromEnv : 5);
  const logLine = (): void => emit('progress', { ...counts, total, imagesPerSecond: rate() }, line());
  const timer = !useBar && !options.quiet && interval > 0 ? setInterval(logLine, interval * 1000) : null;
  timer?.unref();

  return {
    setTotal(n) {
      total = n;
      bar?.setTotal(Math.max(0, n - counts.skipped));
    },
    update(next) {
      counts = next;
      if (!useBar && interval === 0) logLine();
      bar?.update(counts.done, { rate: rate().toFixed(1), failed: counts.failed });
    },
    info(message) {
      if (bar) bar.stop();
      emit('info', { message }, message);
      if (bar) bar.start(Math.max(0, (total ?? 0) - counts.skipped), counts.done, { rate: rate().toFixed(1), failed: counts.failed });
    },
    warn(message) {
      bar?.stop();
      emit('warning', { message }, message, true);
      bar?.start(Math.max(0, (total ?? 0) - counts.skipped), counts.done, { rate: rate().toFixed(1), failed: counts.failed });
    },
    finish(summary) {
      if (timer) clearInterval(timer);
      bar?.stop();
      emit('summary', summary, summary.message);
    },
  };
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
