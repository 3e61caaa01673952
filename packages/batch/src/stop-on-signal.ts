import { constants } from 'node:os';

/**
 * SIGTERM and SIGINT (Slurm preemption, `scontrol requeue`, a pod's termination grace period,
 * Ctrl-C) stop a run cleanly: no more inputs are taken, the batches in flight finish and are
 * written, the journals are flushed and the lock released. A batch that has not finished within
 * GRACE_MS is abandoned: the `onAbandon` hooks run synchronously (the in-flight journal is
 * rewritten so that its inputs do not count as crashes, the lock is released) and its inputs are
 * run again by the next run. A second signal abandons at once.
 *
 * Either way the process then dies of the same signal, re-raised with its default action, so that
 * its parent sees what it sent: a shell's `$?` is 143 (SIGTERM) or 130 (SIGINT), Slurm records
 * signal 15. Re-raising rather than process.exit() also ends the process at once while a native
 * engine call is still running on its thread (exiting then aborts in onnxruntime's teardown).
 */
export const GRACE_MS = 5_000;

export interface StopOnSignal {
  /** The signal received, or null. */
  readonly signal: NodeJS.Signals | null;
  /** Resolves on the first signal. */
  readonly stopped: Promise<void>;
  /** 128 + the signal's number: the exit status a shell reports. */
  exitCode(): number;
  /** Registers what must run synchronously when the batches in flight are abandoned. */
  onAbandon(abandon: () => void): void;
  /**
   * After the run's own clean-up (journals flushed, lock released): stops listening and, when a
   * signal stopped the run, dies of it (a pending read of standard input would otherwise keep the
   * process alive).
   */
  dispose(): void;
}

export function stopOnSignal(say: (line: string) => void): StopOnSignal {
  const abandoning: Array<() => void> = [];
  let signal: NodeJS.Signals | null = null;
  let timer: NodeJS.Timeout | undefined;
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => { resolveStopped = resolve; });
  const exitCode = (): number => 128 + (signal ? constants.signals[signal] : 0);
  const dieOfSignal = (): void => {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    process.kill(process.pid, signal!);
    // Delivered on the next turn of the event loop (by way of signal-exit's listener, which
    // proper-lockfile installs): kept alive until then, with the same status should it not come.
    setTimeout(() => process.exit(exitCode()), 2000);
  };
  const abandonNow = (): void => {
    clearTimeout(timer);
    for (const abandon of abandoning.splice(0)) abandon();
    dieOfSignal();
  };
  function onSignal(received: NodeJS.Signals): void {
    if (signal) return abandonNow();
    signal = received;
    say(`${received}: stopping: no new inputs; the batches in flight finish within ${GRACE_MS / 1000} s or are abandoned, then the run ends with ${received} (exit status ${exitCode()}; rerun the same command to resume)`);
    timer = setTimeout(abandonNow, GRACE_MS);
    resolveStopped();
  }
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  return {
    get signal() { return signal; },
    stopped,
    exitCode,
    onAbandon(abandon) { abandoning.push(abandon); },
    dispose() {
      clearTimeout(timer);
      abandoning.length = 0;
      if (signal) dieOfSignal();
      else process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    },
  };
}

/** The listing until `stopped` resolves: the inputs not yet taken are left for the next run. */
export async function* untilStopped<T>(listing: AsyncIterable<T>, stopped: Promise<void>): AsyncGenerator<T> {
  const iterator = listing[Symbol.asyncIterator]();
  const stop = stopped.then(() => null);
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), stop]);
      if (next === null || next.done) return;
      yield next.value;
    }
  } finally {
    void iterator.return?.()?.catch(() => undefined); // a pending read (stdin) is not awaited
  }
}
