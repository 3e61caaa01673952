import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

describe('the universal entry', () => {
  it('imports neither sharp nor node: built-ins (browsers load it)', () => {
    const files = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(files).toContain('index.ts');
    for (const file of files) {
      const text = readFileSync(join(here, file), 'utf8');
      expect(text, file).not.toMatch(/from\s+['"](sharp|node:[^'"]+|fs|path|os)['"]/);
      expect(text, file).not.toMatch(/import\(\s*['"](sharp|node:)/);
    }
  });
});
