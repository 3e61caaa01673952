import type { EpochLog } from '@xception/training';
import type { TrainingProgress } from '@xception/training/node';
import { downloadBar } from './download-bar.js';
import { createProgressReporter, type ProgressReporter } from './progress-reporter.js';

/**
 * How `xception train` shows trainClassifier's progress: the weights' download bar, the feature
 * pass as classify shows its images (a bar on a terminal, a line every few seconds in a log),
 * and a line per epoch. Nothing but the download bar with --quiet.
 */
export function trainProgressPrinter(o: { quiet: boolean; say(line: string): void }): { onProgress(event: TrainingProgress): void; stop(): void } {
  const log = (line: string): void => { if (!o.quiet) o.say(line); };
  const download = downloadBar();
  let features: ProgressReporter | null = null;
  let downloading = true;
  const endDownload = (): void => { if (downloading) download.stop(); downloading = false; };
  return {
    onProgress(event) {
      if (event.kind === 'weights') return download.onProgress(event.event);
      endDownload();
      switch (event.kind) {
        case 'engine': return log(event.line);
        case 'features-cached': return log(`features of ${event.images} images read from ${event.path}`);
        case 'features-start':
          // The feature pass is most of a run's time (minutes for thousands of photos).
          features = createProgressReporter({ quiet: o.quiet, format: 'text', doing: 'computing features' });
          features.setTotal(event.images);
          return log(`computing the features of ${event.images} images with ${event.engine}`);
        case 'features': return features?.update({ done: event.done, ok: event.done, failed: 0, skipped: 0 });
        case 'features-end': return features?.finish({ message: `features of ${event.images} images in ${event.seconds.toFixed(1)} s` });
        case 'resumed':
          return log(event.stage === 'head' ? `resuming from the checkpoint after epoch ${event.epoch} (${event.path})` : `resuming fine-tuning from the checkpoint after epoch ${event.epoch}`);
        case 'fine-tune-start': return log(`fine-tuning ${event.layers} layers from ${event.from} on the ${event.boundary} activations of ${event.images} images`);
        case 'epoch':
          log(`${event.stage === 'head' ? 'epoch' : 'fine-tune epoch'} ${event.log.epoch + 1}/${event.epochs}: ${metrics(event.log)}`);
          // The resume test's kill, once the epoch's checkpoint is written.
          if (event.stage === 'head' && Number(process.env.XCEPTION_TEST_KILL_AFTER_EPOCH) === event.log.epoch + 1) process.kill(process.pid, 'SIGKILL');
      }
    },
    stop: endDownload,
  };
}

function metrics(e: EpochLog): string {
  const val = e.val_loss === undefined ? '' : `, val_loss ${e.val_loss.toFixed(4)}, val_accuracy ${e.val_accuracy!.toFixed(4)}`;
  return `loss ${e.loss.toFixed(4)}, accuracy ${e.accuracy.toFixed(4)}${val}`;
}
