import { readFile } from 'node:fs/promises';
import type { TagRuleSettings } from '@xception/photo-library';
import { CliError, EXIT } from '../cli-error.js';

/** What `xception tag` applies: the desktop app's rule settings, with the same defaults. */
export interface TagRules extends TagRuleSettings {
  /** First component of the lr:hierarchicalSubject / digiKam:TagsList entries written. */
  hierarchyRoot: string;
  /** Predictions kept per photo (the rules pick tags from these). */
  topK: number;
}

/** The desktop app's defaults (apps/desktop/src/shared/api.ts DEFAULT_SETTINGS). */
export const DEFAULT_TAG_RULES: TagRules = { threshold: 0.3, topK: 5, hierarchyRoot: 'Xception', ignoreLabels: [], renames: {}, mergeMode: 'hierarchy' };

const MERGE_MODES = ['none', 'hierarchy', 'group-only'] as const;

const usage = (message: string): CliError => new CliError('ERR_USAGE', message, EXIT.usage);

/**
 * Reads `--rules rules.json`: the keys of the desktop app's settings.json (threshold, topK,
 * hierarchyRoot, ignoreLabels, renames, mergeMode), so the app's own settings file works as is;
 * other keys (engine, weights) are ignored. `--threshold` wins over the file.
 */
export async function loadTagRules(file: string | undefined, threshold: number | undefined): Promise<TagRules> {
  const rules: TagRules = { ...DEFAULT_TAG_RULES };
  if (file !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw usage(code ? `--rules ${file} cannot be read (${code}); give a JSON file of tag rules.` : `--rules ${file} is not valid JSON (${(error as Error).message}).`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usage(`--rules ${file} must hold a JSON object, like the desktop app's settings.json.`);
    const o = parsed as Record<string, unknown>;
    const bad = (key: string, what: string): CliError => usage(`--rules ${file}: '${key}' must be ${what}.`);
    if (o.threshold !== undefined) {
      if (typeof o.threshold !== 'number' || !(o.threshold >= 0 && o.threshold <= 1)) throw bad('threshold', 'a number from 0 to 1');
      rules.threshold = o.threshold;
    }
    if (o.topK !== undefined) {
      if (!Number.isInteger(o.topK) || (o.topK as number) < 1 || (o.topK as number) > 1000) throw bad('topK', 'an integer from 1 to 1000');
      rules.topK = o.topK as number;
    }
    if (o.hierarchyRoot !== undefined) {
      if (typeof o.hierarchyRoot !== 'string' || !/^[^|/\\<>]{1,100}$/.test(o.hierarchyRoot)) throw bad('hierarchyRoot', 'a name of 1 to 100 characters without | / \\ < >');
      rules.hierarchyRoot = o.hierarchyRoot;
    }
    if (o.ignoreLabels !== undefined) {
      if (!Array.isArray(o.ignoreLabels) || !o.ignoreLabels.every((l) => typeof l === 'string')) throw bad('ignoreLabels', 'a list of label names');
      rules.ignoreLabels = o.ignoreLabels as string[];
    }
    if (o.renames !== undefined) {
      if (typeof o.renames !== 'object' || o.renames === null || Array.isArray(o.renames) || !Object.values(o.renames).every((v) => typeof v === 'string')) throw bad('renames', 'an object of label → tag name');
      rules.renames = o.renames as Record<string, string>;
    }
    if (o.mergeMode !== undefined) {
      if (!MERGE_MODES.includes(o.mergeMode as never)) throw bad('mergeMode', `one of ${MERGE_MODES.join(', ')}`);
      rules.mergeMode = o.mergeMode as TagRules['mergeMode'];
    }
  }
  if (threshold !== undefined) rules.threshold = threshold;
  return rules;
}
