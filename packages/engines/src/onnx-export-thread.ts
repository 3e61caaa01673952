import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { CreateXceptionOptions, WeightValues } from '@xception/core';
import { exportXceptionOnnx } from '@xception/onnx';

/**
 * Exports the ONNX model to a file in a thread of its own, which then ends: the export holds the
 * weights, their BatchNorm-folded copy and the serialised bytes (about 3x the model), and a
 * thread that exits gives all of it back at once, before onnxruntime allocates its own copies.
 * (In a long-lived thread the same garbage waits for a collection that nothing forces.)
 */
export interface ExportJob {
  model: CreateXceptionOptions;
  weights: WeightValues | null;
  /** Written beside as `<file>.<pid>.partial`, flushed, then renamed: a reader never sees half a file. */
  file: string;
}
export type ExportReply = { ok: true; sha256: string; bytes: number } | { ok: false; error: string };

function run({ model, weights, file }: ExportJob): ExportReply {
  const { bytes } = exportXceptionOnnx(model, weights);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const partial = `${file}.${process.pid}.partial`;
  try {
    const fd = openSync(partial, 'w');
    try {
      for (let offset = 0; offset < bytes.length;) {
        const written = writeSync(fd, bytes, offset, bytes.length - offset);
        if (written <= 0) throw new Error(`a write of 0 bytes to ${partial}`);
        offset += written;
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  return { ok: true, sha256, bytes: bytes.length };
}

try {
  parentPort!.postMessage(run(workerData as ExportJob));
} catch (error) {
  parentPort!.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) } satisfies ExportReply);
}
