import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '@xception/photo-library';
import { restoreTaughtTag } from '@xception/training';
import { z } from 'zod';
import type { TaughtHeads } from './tag-teacher.js';

export interface TaughtTagsStore {
  /** The taught tags saved last; none when the file is missing or unreadable (they can be taught again). */
  load(): Promise<TaughtHeads[]>;
  save(taught: Iterable<TaughtHeads>): Promise<void>;
}

/** Float32 values as base64 of their little-endian bytes: exact, and ~3x smaller than JSON numbers. */
const encode = (values: Float32Array): string => Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
const decode = (text: string): Float32Array => {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength - (bytes.byteLength % 4)));
};

const fileSchema = z.object({
  version: z.literal(1),
  tags: z.array(z.object({
    tag: z.string().min(1),
    autoApply: z.boolean(),
    model: z.string().nullable(),
    positives: z.number().int().nonnegative(),
    negatives: z.number().int().nonnegative(),
    heads: z.array(z.object({ kernel: z.string(), bias: z.string() })).min(1),
    scores: z.array(z.object({ id: z.string(), score: z.number() })),
  })),
});

/**
 * taught-tags.json in the app's data folder: each taught tag's folded heads (a 2048x2 kernel and
 * a bias each, ~22 KB in base64) with the scores they gave, so that an auto-applied tag goes on
 * applying to photos tagged after a restart. Written atomically after each teach.
 */
export function createTaughtTagsStore(path: string): TaughtTagsStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch {
        return []; // never taught yet (or unreadable: nothing to keep aside)
      }
      try {
        const parsed = fileSchema.parse(JSON.parse(text));
        return parsed.tags.map((t) => ({
          ...t,
          heads: t.heads.map((h) => restoreTaughtTag({ kernel: decode(h.kernel), bias: decode(h.bias) })),
        }));
      } catch {
        // A damaged or foreign file is kept aside, not overwritten by the next save: the user's taught tags may be in it.
        await rename(path, `${path}.unreadable-${Date.now()}`).catch(() => undefined);
        return [];
      }
    },
    async save(taught) {
      const tags = [...taught].map((t) => ({
        tag: t.tag, autoApply: t.autoApply, model: t.model, positives: t.positives, negatives: t.negatives,
        heads: t.heads.map((h) => ({ kernel: encode(h.weights.kernel), bias: encode(h.weights.bias) })),
        scores: t.scores,
      }));
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, JSON.stringify({ version: 1, tags } satisfies z.infer<typeof fileSchema>));
    },
  };
}
