import { CHANNELS, type TaggingProgress } from '../shared/api.js';

/**
 * Forwards tagging progress to the window or the served page, throttled: at most one message per
 * 250 ms (the page redraws for each, on the cores tagging runs on), the last always sent.
 */
export function createProgressForwarder(send: (channel: string, progress: TaggingProgress) => void, intervalMs = 250): (p: TaggingProgress) => void {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let latest: TaggingProgress | null = null;
  const flush = (): void => {
    timer = null;
    last = Date.now();
    if (latest) send(CHANNELS.progress, latest);
  };
  return (progress) => {
    latest = progress;
    const final = progress.state !== 'running' && progress.state !== 'loading-model';
    if (final || Date.now() - last >= intervalMs) {
      if (timer) clearTimeout(timer);
      flush();
    } else timer ??= setTimeout(flush, intervalMs);
  };
}
