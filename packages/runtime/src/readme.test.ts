import { expect, test } from 'vitest';
import { runOnlyNodeExample } from '@xception/test-kit';
import { libraryWords, RuntimeError } from './index.js';
import { checkImageSize } from './model-rules.js';

// The README's example as a plain Node script on the built package; 71x71 instead of 299x299.
test("the README's example runs in plain Node: random weights opened, one input from bytes, one missing file as an error row", () => {
  const lines = runOnlyNodeExample(new URL('../README.md', import.meta.url), [['imageSize: 299', 'imageSize: 71']]).trim().split('\n');
  expect(lines).toEqual(['1000 71 random', '1 1 ENOENT number']);
});

test("the 299 rule is one sentence, said in the library's words and in a front door's", () => {
  const error = (() => { try { checkImageSize('imagenet', 71); } catch (e) { return e as RuntimeError; } throw new Error('not refused'); })();
  expect(error).toBeInstanceOf(RuntimeError);
  expect(error).toMatchObject({ code: 'ERR_RUNTIME_OPTIONS', option: 'imageSize' });
  expect(error.message).toBe("imageSize: 71 needs other weights than 'imagenet', whose classifier expects 299x299; use imageSize: 299.");
  const flags = { option: (o: string, v: string) => `--${o === 'imageSize' ? 'image-size' : o} ${v}`, value: (_o: string, v: string) => v };
  expect(error.describe(flags)).toBe('--image-size 71 needs other weights than imagenet, whose classifier expects 299x299; use --image-size 299.');
  expect(error.describe(libraryWords)).toBe(error.message);
  // Without the top, or with a file's weights, any size goes (Keras' rule).
  expect(() => checkImageSize('imagenet', 71, false)).not.toThrow();
  expect(() => checkImageSize('model.keras', 71)).not.toThrow();
  expect(() => checkImageSize('imagenet', 299)).not.toThrow();
});
