import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HAVE_CHROMIUM, sharedPath, SKIP_NO_CHROMIUM, SKIP_NO_SHARED } from '@xception/test-kit';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrecisionStatus } from '../src/shared/api.js';
import type { StandInPhoto } from './stand-in-bridge.js';
import { startStandInPage, type StandInPage } from './stand-in-page.js';

const samples = sharedPath('images', 'imagenet-samples');
const appDir = fileURLToPath(new URL('..', import.meta.url));
const skip = !HAVE_CHROMIUM ? SKIP_NO_CHROMIUM : (!samples ? SKIP_NO_SHARED : null);

// Four shared photos with made-up predictions: this test is about the setting, not the model.
const photos: StandInPhoto[] = skip ? [] : readdirSync(samples!).sort().slice(0, 4).map((name, i) => ({ name, index: 281 + i, label: `class ${i}`, score: 0.9, features: [i, 1, 0] }));
// What the main process reports (library-service.ts through precision-classifier.ts); the wording is the test's own.
const refused: PrecisionStatus = {
  running: 'fp32',
  note: 'fp32: int8 was not used (ERR_PRECISION_REFUSED); see the precision setting',
  error: { code: 'ERR_PRECISION_REFUSED', message: 'Precision int8 refused: its top-1 class agrees with fp32 on 0 of 1 held-out calibration photos (0.000), below the 0.98 bound. Tagging goes on in fp32.' },
};
const calibrated: PrecisionStatus = { running: 'int8', note: "int8: calibrated on the library's first 4 photos (top-1 agreement with fp32 1.000 on 1 held-out photos), cached for later runs" };

describe.skipIf(skip)(`the precision setting in the page, Debian Chromium with a stand-in bridge ${skip ?? ''}`, () => {
  let standIn: StandInPage;

  beforeAll(async () => {
    standIn = await startStandInPage(samples!, photos.map((p) => p.name));
  });

  afterAll(async () => {
    await standIn?.close();
  });

  async function openApp(int8: PrecisionStatus): Promise<Page> {
    const page = await standIn.open({ folder: '/home/ada/Pictures/four', photos, perTick: 4, int8 });
    await page.click('#add-folder');
    await expect.poll(() => page.textContent('#count')).toBe('4 photos');
    return page;
  }
  const savedPrecision = (page: Page) => page.evaluate(async () => (await window.xception.getSettings()).precision);
  const tagNew = async (page: Page) => {
    await page.click('#tag-new');
    await expect.poll(() => page.getAttribute('#progress', 'data-state')).toBe('done');
  };

  it('int8 refused: the sentence and its code beside the setting, the fp32 line in the toolbar, and the photos tagged', async () => {
    const page = await openApp(refused);
    expect(await page.inputValue('#precision')).toBe('fp32'); // the default
    expect(await page.isHidden('#precision-note')).toBe(true);
    await page.selectOption('#precision', 'int8');
    await expect.poll(() => savedPrecision(page)).toBe('int8');
    await tagNew(page);
    expect(await page.textContent('#progress')).toBe('Done 4/4');
    expect(await page.textContent('#precision-error')).toBe(refused.error!.message);
    expect(await page.getAttribute('#precision-error', 'data-code')).toBe('ERR_PRECISION_REFUSED');
    expect(await page.isVisible('#precision-error')).toBe(true);
    expect(await page.textContent('#precision-note')).toBe(refused.note);
    await expect.poll(() => page.locator('.tile .tags').first().textContent()).toMatch(/90%/);
    const out = join(appDir, 'test-output');
    mkdirSync(out, { recursive: true });
    await page.screenshot({ path: join(out, 'precision-refused.png') });
    await page.close();
  });

  it('int8 calibrated: its one line in the toolbar and no error; back to fp32 clears both', async () => {
    const page = await openApp(calibrated);
    await page.selectOption('#precision', 'int8');
    await expect.poll(() => savedPrecision(page)).toBe('int8');
    await tagNew(page);
    expect(await page.textContent('#precision-note')).toBe(calibrated.note);
    expect(await page.isHidden('#precision-error')).toBe(true);
    await page.selectOption('#precision', 'fp32');
    await expect.poll(() => savedPrecision(page)).toBe('fp32');
    expect(await page.isHidden('#precision-note')).toBe(true);
    await tagNew(page);
    expect(await page.isHidden('#precision-note')).toBe(true);
    expect(standIn.consoleErrors).toEqual([]);
    await page.close();
  });
});
