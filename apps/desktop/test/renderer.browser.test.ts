import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HAVE_CHROMIUM, sharedPath, SKIP_NO_CHROMIUM, SKIP_NO_SHARED } from '@xception/test-kit';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StandInData, StandInPhoto } from './stand-in-bridge.js';
import { startStandInPage, type StandInPage } from './stand-in-page.js';

const samples = sharedPath('images', 'imagenet-samples');
const labelsTsv = sharedPath('images', 'labels.tsv');
const skip = !HAVE_CHROMIUM ? SKIP_NO_CHROMIUM : (!samples || !labelsTsv ? SKIP_NO_SHARED : null);
const appDir = fileURLToPath(new URL('..', import.meta.url));
const outputDir = join(appDir, 'test-output');

/**
 * The test's own data, from labels.tsv: each photo's true class; a confidence spread evenly
 * over 0.35–0.94 by position; features that put every dog close to the other dogs.
 */
function standInPhotos(): StandInPhoto[] {
  const rows = readFileSync(labelsTsv!, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  return rows.map(([file, index, , label], i) => {
    const klass = Number(index);
    const isDog = klass >= 151 && klass <= 268;
    const features = [isDog ? 5 : 0, isDog ? 0 : 5, (klass % 7) / 7, (klass % 11) / 11, (klass % 13) / 13];
    return { name: file!.split('/').pop()!, index: klass, label: label!, score: 0.35 + ((i * 37) % 60) / 100, features };
  });
}
const isDog = (p: StandInPhoto): boolean => p.index >= 151 && p.index <= 268;

describe.skipIf(skip)(`renderer in Debian Chromium with a stand-in bridge ${skip ?? ''}`, () => {
  const photos = skip ? [] : standInPhotos();
  let standIn: StandInPage;

  beforeAll(async () => {
    standIn = await startStandInPage(samples!, readdirSync(samples!));
  });

  afterAll(async () => {
    await standIn?.close();
  });

  const openApp = (data: StandInData): Promise<Page> => standIn.open(data);

  it('add a folder → tags appear → filter by tag → move the threshold → similar photos; screenshot', async () => {
    const page = await openApp({ folder: '/home/ada/Pictures/imagenet-samples', photos, perTick: 40 });
    await page.click('#add-folder');
    await expect.poll(() => page.textContent('#count')).toBe('186 photos');
    // Virtualised: far fewer tiles than photos are in the DOM.
    const tiles = await page.locator('.tile').count();
    expect(tiles).toBeGreaterThan(10);
    expect(tiles).toBeLessThan(100);

    await page.click('#tag-new');
    await expect.poll(() => page.getAttribute('#progress', 'data-state')).toBe('done');
    expect(await page.textContent('#progress')).toBe('Done 186/186');
    await expect.poll(() => page.locator('.tile .tags').first().textContent()).toMatch(/\d+%/);

    const dogs = photos.filter(isDog);
    await page.click('.tag-filter[data-tag="dog"]');
    await expect.poll(() => page.textContent('#count')).toBe(`${dogs.length} photos`);

    await page.locator('#threshold').fill('0.7');
    const confident = dogs.filter((p) => p.score >= 0.7);
    expect(confident.length).toBeGreaterThan(0);
    expect(confident.length).toBeLessThan(dogs.length);
    await expect.poll(() => page.textContent('#count')).toBe(`${confident.length} photos`);
    expect(await page.textContent('#threshold-value')).toBe('70%');

    await page.locator('.tile').first().click();
    const first = [...confident].sort((a, b) => (a.name < b.name ? -1 : 1))[0]!;
    await expect.poll(() => page.textContent('#detail-name')).toBe(first.name);
    const tagTexts = await page.locator('#detail-tags .tag').allTextContents();
    expect(tagTexts[0]).toContain('dog');
    expect(tagTexts.join(' ')).toContain(`${Math.round(first.score * 100)}%`);

    await page.fill('#add-tag', 'favourite');
    await page.click('#add-tag-form button');
    await expect.poll(() => page.locator('#detail-tags .tag.user .name').allTextContents()).toEqual(['favourite']);
    expect(await page.locator('#detail-tags .tag.user .score').allTextContents()).toEqual(['hand']);

    await page.click('#similar-button');
    await expect.poll(() => page.locator('.similar-item').count()).toBe(9);
    const similarIds = await page.locator('.similar-item').evaluateAll((items) => items.map((i) => (i as HTMLElement).dataset.id!.split('/').pop()!));
    const byName = new Map(photos.map((p) => [p.name, p]));
    expect(similarIds.every((n) => isDog(byName.get(n)!))).toBe(true);
    expect(similarIds).not.toContain(first.name);

    mkdirSync(outputDir, { recursive: true });
    const screenshot = join(outputDir, 'desktop-app.png');
    await page.screenshot({ path: screenshot });
    console.log(`screenshot for review: ${screenshot}`);

    expect(standIn.consoleErrors).toEqual([]);
    expect(standIn.requests.every((u) => u.startsWith(standIn.base))).toBe(true);
    await page.close();
  });

  it('tagging updates the tiles in place: their images are not made again, and main is told which photos are in view', async () => {
    const page = await openApp({ folder: '/home/ada/Pictures/imagenet-samples', photos, perTick: 40 });
    await page.click('#add-folder');
    await expect.poll(() => page.textContent('#count')).toBe('186 photos');
    // Main hears the photos in view (their tagging decodes make the thumbnails): the grid's tiles.
    const rendered = await page.locator('.tile').evaluateAll((tiles) => tiles.map((t) => (t as HTMLElement).dataset.id));
    await expect.poll(() => page.evaluate(() => (window as unknown as { shownThumbnails?: string[][] }).shownThumbnails?.at(-1))).toEqual(rendered);
    // Each image element is marked; a tile rebuilt by a refresh would lose its mark.
    const marked = await page.locator('.tile img').evaluateAll((imgs) => imgs.map((i) => ((i as HTMLImageElement).dataset.mark = 'first') && 1).length);
    expect(marked).toBe(rendered.length);
    await page.click('#tag-new');
    await expect.poll(() => page.getAttribute('#progress', 'data-state')).toBe('done');
    await expect.poll(() => page.locator('.tile .tags').evaluateAll((tags) => tags.every((t) => /\d+%|—/.test(t.textContent ?? '')))).toBe(true);
    expect(await page.locator('.tile img[data-mark="first"]').count()).toBe(marked);
    expect(standIn.consoleErrors).toEqual([]);
    await page.close();
  });

    it('keeps the DOM small with 20,000 photos and scrolls to the last one', async () => {
    const page = await openApp({ folder: '/home/ada/Pictures/big', photos, bulk: 20_000 });
    await page.click('#add-folder');
    await expect.poll(() => page.textContent('#count')).toBe('20,000 photos');
    const nodes = () => page.evaluate(() => document.getElementsByTagName('*').length);
    expect(await page.locator('.tile').count()).toBeLessThan(100);
    expect(await nodes()).toBeLessThan(800);
    await page.locator('#grid').evaluate((g) => (g.scrollTop = g.scrollHeight));
    await expect.poll(() => page.locator('.tile[data-index="19999"] .name').textContent()).toBe(`19999-${photos[19999 % photos.length]!.name}`);
    expect(await page.locator('.tile').count()).toBeLessThan(100);
    expect(await nodes()).toBeLessThan(800);
    expect(standIn.consoleErrors).toEqual([]);
    await page.close();
  });
});
