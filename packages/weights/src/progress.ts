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
 * The callback to use: the caller's, else nothing. A library draws nothing on a terminal; the
 * `xception` CLI passes a callback that draws its progress bar.
 */
export function progressReporter(callback: ProgressCallback | undefined): { report: ProgressCallback; stop(): void } {
  return { report: callback ?? (() => undefined), stop() {} };
}
