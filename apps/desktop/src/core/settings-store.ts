import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DEFAULT_SETTINGS, type Settings } from '../shared/api.js';
import { writeFileAtomic } from '@xception/photo-library';
import { settingsPatchSchema } from './bridge-schemas.js';

export interface SettingsStore {
  load(): Promise<Settings>;
  save(settings: Settings): Promise<void>;
}

/** settings.json in the app's data folder; a missing or broken file gives the defaults. */
export function createSettingsStore(path: string): SettingsStore {
  return {
    async load() {
      try {
        const parsed = settingsPatchSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
        return parsed.success ? { ...DEFAULT_SETTINGS, ...parsed.data } : { ...DEFAULT_SETTINGS };
      } catch {
        return { ...DEFAULT_SETTINGS };
      }
    },
    async save(settings) {
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, JSON.stringify(settings, null, 2));
    },
  };
}
