import { isAbsolute } from 'node:path';
import { xmlIllegalCharacter } from '@xception/photo-library';
import { z } from 'zod';
import type { InvokeChannel } from '../shared/api.js';

/**
 * Schemas for every bridge argument, whichever shell it came through (Electron's IPC, the served
 * shell's HTTP). The page is treated as untrusted: whatever the preload or served-bridge types
 * say, bridge-methods.ts parses each argument here before using it; paths are further checked
 * against the added folders by the path guard.
 */
const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => isAbsolute(p) && !p.includes('\0'), 'must be an absolute path');
/** Text that goes into sidecars (tags, renames, the root): nothing XML cannot hold, no control character. */
const SIDECAR_TEXT = 'must hold no control character and no character XML cannot hold';
const isSidecarText = (t: string): boolean => !/\p{Cc}/u.test(t) && xmlIllegalCharacter(t) === null;
const sidecarText = (schema: z.ZodString) => schema.refine(isSidecarText, SIDECAR_TEXT);
const tag = z.string().min(1).max(100);
/** A tag in the settings; a hand tag is checked by the library service (usableTag), whose sentence is the user's. */
const settingsTag = sidecarText(z.string().min(1).max(100));
/** Float32Array over Electron IPC (structured clone), or plain numbers; at most 1000 classes / 2048 features ... with room. */
const floats = z.union([z.instanceof(Float32Array), z.array(z.number())]).refine((a) => a.length <= 100_000, 'at most 100,000 values');

export const settingsPatchSchema = z
  .object({
    threshold: z.number().min(0).max(1),
    topK: z.number().int().min(1).max(20),
    engine: z.enum(['auto', 'onnx', 'tfjs-node', 'wasm', 'webgl']),
    precision: z.enum(['fp32', 'int8']),
    weights: z.discriminatedUnion('kind', [z.object({ kind: z.literal('imagenet') }).strict(), z.object({ kind: z.literal('file'), path: absolutePath }).strict()]),
    hierarchyRoot: sidecarText(z.string().min(1).max(50).regex(/^[^|/\\]+$/, 'must not contain | / or \\')),
    ignoreLabels: z.array(settingsTag).max(1000),
    renames: z.record(tag, settingsTag).refine((r) => Object.keys(r).length <= 1000, 'at most 1000 renames').refine((r) => Object.keys(r).every(isSidecarText), `its names ${SIDECAR_TEXT}`),
    mergeMode: z.enum(['none', 'hierarchy', 'group-only']),
  })
  .strict()
  .partial();

export const ARGUMENT_SCHEMAS: Record<InvokeChannel, z.ZodTuple> = {
  addFolders: z.tuple([]),
  removeFolder: z.tuple([absolutePath]),
  listFolders: z.tuple([]),
  scan: z.tuple([]),
  query: z.tuple([
    z
      .object({
        tags: z.array(tag).max(50).optional(),
        text: z.string().max(200).optional(),
        offset: z.number().int().min(0).optional(),
        limit: z.number().int().min(0).max(5000).optional(),
      })
      .strict(),
  ]),
  tagCounts: z.tuple([]),
  similar: z.tuple([absolutePath, z.number().int().min(1).max(200)]),
  // The grid's tiles in view (with its overscan): a few hundred at most on any screen.
  showThumbnails: z.tuple([z.array(absolutePath).max(1000)]),
  addTag: z.tuple([absolutePath, tag]),
  removeTag: z.tuple([absolutePath, tag]),
  teachTag: z.tuple([tag, z.object({ autoApply: z.boolean().optional() }).strict().optional()]),
  acceptSuggestion: z.tuple([absolutePath, tag]),
  startTagging: z.tuple([z.object({ scope: z.enum(['new', 'all']) }).strict()]),
  pauseTagging: z.tuple([]),
  resumeTagging: z.tuple([]),
  cancelTagging: z.tuple([]),
  getSettings: z.tuple([]),
  updateSettings: z.tuple([settingsPatchSchema]),
  chooseWeightsFile: z.tuple([]),
  reportGpu: z.tuple([z.object({ webgl: z.boolean(), renderer: z.string().max(500).nullable(), realGpu: z.boolean() }).strict()]),
  inferenceReply: z.tuple([
    z.union([
      z.object({
        id: z.number().int().min(1),
        ok: z.literal(true),
        result: z.union([
          z.null(),
          z.object({ backend: z.string().max(100), where: z.enum(['worker', 'page']) }).strict(),
          z.object({ probabilities: floats, features: floats }).strict(),
        ]),
      }).strict(),
      z.object({ id: z.number().int().min(1), ok: z.literal(false), message: z.string().max(2000) }).strict(),
    ]),
  ]),
};
