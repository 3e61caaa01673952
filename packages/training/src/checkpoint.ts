import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { TrainingState } from './fit.js';

/**
 * A training checkpoint on disk: a JSON header (epoch, history, early-stopping counters, the
 * caller's `meta`) and the float32 arrays (variables, optimizer slots, best weights) after it.
 * Written under a temporary name and renamed, so that a process killed mid-write (kill -9)
 * leaves the previous checkpoint whole. Our own small format: the state is a handful of flat
 * float32 arrays, which neither JSON (size) nor HDF5 (a wasm module for one file) suits better.
 */
const MAGIC = 'XCEPTION-CHECKPOINT-1\n';

interface Header {
  meta: unknown;
  epoch: number;
  iterations: number;
  history: TrainingState['history'];
  earlyStopping: { best: number | null; wait: number; hasBest: boolean } | null;
  /** Array lengths in the order they follow the header: variables, then slots per variable, then best variables. */
  variables: number[];
  slots: number[][];
  bestVariables: number[];
}

export interface Checkpoint<Meta> {
  readonly meta: Meta;
  readonly state: TrainingState;
}

export function encodeCheckpoint(state: TrainingState, meta: unknown): Uint8Array {
  const best = state.earlyStopping?.bestVariables ?? null;
  const header: Header = {
    meta,
    epoch: state.epoch,
    iterations: state.optimizer.iterations,
    history: state.history,
    // JSON has no Infinity: the "nothing yet" best is written as null.
    earlyStopping: state.earlyStopping ? { best: Number.isFinite(state.earlyStopping.best) ? state.earlyStopping.best : null, wait: state.earlyStopping.wait, hasBest: best !== null } : null,
    variables: state.variables.map((v) => v.length),
    slots: state.optimizer.slots.map((s) => s.map((v) => v.length)),
    bestVariables: (best ?? []).map((v) => v.length),
  };
  const arrays = [...state.variables, ...state.optimizer.slots.flat(), ...(best ?? [])];
  const json = new TextEncoder().encode(JSON.stringify(header));
  const prefix = new TextEncoder().encode(MAGIC);
  // The arrays start on a 4-byte boundary, so that they can be read in place.
  const headerEnd = prefix.length + 4 + json.length;
  const start = Math.ceil(headerEnd / 4) * 4;
  const out = new Uint8Array(start + arrays.reduce((n, a) => n + a.byteLength, 0));
  out.set(prefix, 0);
  new DataView(out.buffer).setUint32(prefix.length, json.length, true);
  out.set(json, prefix.length + 4);
  let at = start;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  return out;
}

export function decodeCheckpoint<Meta>(bytes: Uint8Array, where = 'the checkpoint'): Checkpoint<Meta> {
  const prefix = new TextEncoder().encode(MAGIC);
  if (bytes.length < prefix.length + 4 || new TextDecoder().decode(bytes.subarray(0, prefix.length)) !== MAGIC) {
    throw new Error(`${where} is not a training checkpoint; delete it to start afresh.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = view.getUint32(prefix.length, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(prefix.length + 4, prefix.length + 4 + jsonLength))) as Header;
  let at = Math.ceil((prefix.length + 4 + jsonLength) / 4) * 4;
  const take = (length: number): Float32Array => {
    if (at + length * 4 > bytes.length) throw new Error(`${where} is truncated; delete it to start afresh.`);
    const copy = new Float32Array(length);
    new Uint8Array(copy.buffer).set(bytes.subarray(at, at + length * 4));
    at += length * 4;
    return copy;
  };
  const variables = header.variables.map(take);
  const slots = header.slots.map((s) => s.map(take));
  const bestVariables = header.earlyStopping?.hasBest ? header.bestVariables.map(take) : null;
  const early = header.earlyStopping;
  return {
    meta: header.meta as Meta,
    state: {
      epoch: header.epoch,
      variables,
      optimizer: { iterations: header.iterations, slots },
      history: header.history,
      earlyStopping: early ? { best: early.best ?? NaN, wait: early.wait, bestVariables } : null,
    },
  };
}

/** Writes a checkpoint atomically (temporary file, then rename). */
export async function writeCheckpointFile(path: string, state: TrainingState, meta: unknown): Promise<void> {
  const partial = `${path}.${randomBytes(4).toString('hex')}.partial`;
  try {
    await writeFile(partial, encodeCheckpoint(state, meta));
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** The checkpoint at path, or null when there is none. */
export async function readCheckpointFile<Meta>(path: string): Promise<Checkpoint<Meta> | null> {
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  return bytes ? decodeCheckpoint<Meta>(new Uint8Array(bytes), path) : null;
}
