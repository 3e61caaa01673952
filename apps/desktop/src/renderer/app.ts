/**
 * The renderer: plain TypeScript and DOM against `window.xception` (the preload's typed bridge,
 * the served shell's HTTP bridge, or a stand-in in the browser tests). Every string from the library goes in through textContent,
 * never innerHTML.
 */
import type { PhotoSummary, PhotoTag, PrecisionStatus, Settings, TaggingProgress, XceptionBridge } from '../shared/api.js';
import { startRendererInference } from './inference/renderer-inference.js';
import { createPhotoPages } from './photo-pages.js';
import { createServedBridge } from './served-bridge.js';
import { createVirtualGrid } from './virtual-grid.js';

declare global {
  interface Window {
    xception: XceptionBridge;
  }
}

// Electron's preload (or a test) installs the bridge first; served by `pnpm tagger serve`, the page makes its own.
const served = !window.xception;
const api = (window.xception ??= createServedBridge());
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};
const percent = (score: number | null): string => (score === null ? 'hand' : `${Math.round(score * 100)}%`);

const filters = new Set<string>();
let searchText = '';
let selected: PhotoSummary | null = null;
let settings: Settings;

const pages = createPhotoPages((q) => api.query(q), () => grid.refresh());
const grid = createVirtualGrid<PhotoSummary>({
  viewport: $('grid'),
  tileWidth: 180,
  tileHeight: 196,
  item: (i) => pages.get(i),
  want: (from, to) => {
    pages.want(from, to);
    showThumbnails(from, to);
  },
  render(tile, photo) {
    const id = photo?.id ?? '';
    const version = versionOf(photo);
    if (tile.dataset.id === id && tile.dataset.version === version) return;
    const samePhoto = !!photo && tile.dataset.id === id;
    tile.dataset.id = id;
    tile.dataset.version = version;
    tile.classList.toggle('selected', !!photo && photo.id === selected?.id);
    if (!photo) return void tile.replaceChildren();
    // The same photo with new tags (tagging goes on): only its text changes; its image element
    // stays, so the thumbnail is neither requested nor decoded again.
    if (!samePhoto) tile.replaceChildren(thumbnailOf(photo), el('div', 'name', photo.name), el('div', 'tags'));
    const tags = tile.querySelector<HTMLElement>('.tags')!;
    tags.className = photo.status === 'error' ? 'tags status-error' : 'tags';
    tags.textContent = photo.status === 'error' ? `⚠ ${photo.error ?? 'failed'}` : photo.tags.slice(0, 3).map((t) => `${t.name} ${percent(t.score)}`).join(' · ') || (photo.status === 'tagged' ? '—' : 'not tagged yet');
    tile.title = photo.id;
    tile.onclick = () => void select(photo);
  },
});
function thumbnailOf(photo: PhotoSummary): HTMLImageElement {
  const img = el('img');
  img.loading = 'lazy';
  img.decoding = 'async';
  img.alt = photo.name;
  img.src = api.thumbnailUrl(photo.id);
  return img;
}
/** The photos in view, told to the main process when they change: their tagging decodes make their thumbnails. */
let shownIds = '';
function showThumbnails(from: number, to: number): void {
  const ids: string[] = [];
  for (let i = from; i <= to; i++) {
    const photo = pages.get(i);
    if (photo) ids.push(photo.id);
  }
  const signature = ids.join('\0');
  if (ids.length === 0 || signature === shownIds) return;
  shownIds = signature;
  // A hint only: if it is lost, the thumbnails are decoded when the grid asks for them.
  void api.showThumbnails(ids).catch(() => undefined);
}
const versionOf = (photo: PhotoSummary | undefined): string => (photo ? `${photo.status}|${photo.tags.map((t) => `${t.name}:${t.score}`).join(',')}|${photo.id === selected?.id}` : '');

async function refreshLibrary(): Promise<void> {
  const total = await pages.reset({ tags: [...filters], text: searchText });
  $('count').textContent = total === 0 ? (filters.size || searchText ? 'No photos match' : 'No photos yet: add a folder') : `${total.toLocaleString()} photo${total === 1 ? '' : 's'}`;
  grid.setCount(total);
  await Promise.all([refreshTags(), refreshFolders()]);
}

/** What a list showed last, so that a refresh that changes nothing rebuilds nothing. */
const shown = { folders: '', tags: '' };

async function refreshFolders(): Promise<void> {
  const folders = await api.listFolders();
  const signature = JSON.stringify(folders);
  if (signature === shown.folders) return;
  shown.folders = signature;
  $('folders').replaceChildren(...folders.map((f) => {
    const item = el('li', undefined, `${f.path} (${f.photoCount})`);
    item.title = f.path;
    return item;
  }));
}

async function refreshTags(): Promise<void> {
  const counts = await api.tagCounts();
  const signature = JSON.stringify([counts.slice(0, 200), [...filters]]);
  if (signature === shown.tags) return;
  shown.tags = signature;
  $('tags').replaceChildren(
    ...counts.slice(0, 200).map(({ name, count }) => {
      const button = el('button', filters.has(name) ? 'tag-filter active' : 'tag-filter');
      button.type = 'button';
      button.dataset.tag = name;
      button.append(el('span', undefined, name), el('span', 'muted', String(count)));
      button.onclick = () => {
        if (filters.has(name)) filters.delete(name);
        else filters.add(name);
        void refreshLibrary();
      };
      return el('li').appendChild(button).parentElement!;
    }),
  );
  $('active-filters').replaceChildren(...[...filters].map((name) => {
    const chip = el('button', 'chip', `${name} ✕`);
    chip.type = 'button';
    chip.onclick = () => {
      filters.delete(name);
      void refreshLibrary();
    };
    return chip;
  }));
}

async function select(photo: PhotoSummary): Promise<void> {
  selected = photo;
  grid.refresh();
  $('detail').hidden = false;
  ($('detail-img') as HTMLImageElement).src = api.thumbnailUrl(photo.id);
  $('detail-name').textContent = photo.name;
  $('detail-status').textContent = photo.status === 'error' ? (photo.error ?? 'Failed') : `${photo.folder} · ${photo.status}`;
  $('detail-tags').replaceChildren(...photo.tags.map(tagRow));
  $('similar').replaceChildren();
}

function tagRow(tag: PhotoTag): HTMLElement {
  const row = el('li', `tag ${tag.source}`);
  const name = el('span', 'name', tag.name);
  name.title = [settings.hierarchyRoot, ...tag.path].join(' › ');
  const remove = el('button', 'remove', '✕');
  remove.type = 'button';
  remove.title = `Remove “${tag.name}”; the model will not add it back`;
  remove.onclick = () => void edit(() => api.removeTag(selected!.id, tag.name));
  row.append(name, el('span', 'score', percent(tag.score)), remove);
  return row;
}

async function edit(change: () => Promise<PhotoSummary>): Promise<void> {
  try {
    const updated = await change();
    pages.update(updated);
    await select(updated);
    await refreshTags();
  } catch (error) {
    showError(error);
  }
}

function showError(error: unknown): void {
  const text = error instanceof Error ? error.message.replace(/^Error invoking remote method '[^']+': (\w*Error: )?/, '') : String(error);
  $('progress').textContent = text;
  $('progress').className = 'error-banner';
}

/** The precision setting's outcome: its one line in the toolbar, and beside the setting why int8 was not used. */
function showPrecision(status: PrecisionStatus | undefined): void {
  const note = $('precision-note');
  note.hidden = !status;
  note.textContent = status?.note ?? '';
  const error = $('precision-error');
  error.hidden = !status?.error;
  error.textContent = status?.error?.message ?? '';
  error.dataset.code = status?.error?.code ?? '';
}

function showProgress(p: TaggingProgress): void {
  showPrecision(p.precision);
  const bar = $('progress-bar') as HTMLProgressElement;
  bar.max = Math.max(1, p.total);
  bar.value = p.done + p.failed;
  const status = $('progress');
  status.className = p.state === 'failed' ? 'error-banner' : '';
  status.dataset.state = p.state;
  const counts = `${p.done}/${p.total}${p.failed ? `, ${p.failed} failed` : ''}`;
  status.textContent =
    p.state === 'loading-model'
      ? p.download
        ? `Downloading weights ${Math.round((p.download.loaded / ((p.download.total ?? p.download.loaded) || 1)) * 100)}%`
        : 'Loading the model…'
      : p.state === 'running'
        ? `Tagging ${counts}`
        : p.state === 'paused'
          ? `Paused ${counts}`
          : p.state === 'failed'
            ? (p.message ?? 'Tagging failed')
            : p.state === 'idle'
              ? 'Idle'
              : `${p.state === 'cancelled' ? 'Cancelled' : 'Done'} ${counts}`;
  ($('pause') as HTMLButtonElement).disabled = p.state !== 'running' && p.state !== 'loading-model';
  ($('resume') as HTMLButtonElement).disabled = p.state !== 'paused';
  ($('cancel') as HTMLButtonElement).disabled = p.state !== 'running' && p.state !== 'paused' && p.state !== 'loading-model';
}

const REFRESH_WHILE_TAGGING_MS = 1000;
let refreshTimer = 0;
let progressSeen = false;
api.onProgress((p) => {
  progressSeen = true;
  showProgress(p);
  // Tags appear while tagging runs: the view queries again at most once a second, so that the
  // page takes little from tagging on the same cores.
  if (!refreshTimer) refreshTimer = window.setTimeout(() => {
    refreshTimer = 0;
    void refreshLibrary();
  }, p.state === 'running' ? REFRESH_WHILE_TAGGING_MS : 0);
});

// Photos found by a scan as it streams, or by the folder watcher: the view queries again, at most
// every 300 ms; body[data-scanning] says whether a scan is still walking the folders.
let libraryTimer = 0;
api.onLibraryChanged((change) => {
  document.body.dataset.scanning = String(change.scanning);
  if (!libraryTimer) libraryTimer = window.setTimeout(() => {
    libraryTimer = 0;
    void refreshLibrary();
  }, 300);
});

const run = (action: () => Promise<unknown>) => () => void action().catch(showError);
$('add-folder').onclick = run(async () => {
  const folders = await api.addFolders();
  if (folders.length > 0) await refreshLibrary();
});
$('scan').onclick = run(async () => {
  const summary = await api.scan();
  $('progress').textContent = `Scan: ${summary.added} new, ${summary.changed} changed, ${summary.removed} gone`;
  await refreshLibrary();
});
$('tag-new').onclick = run(() => api.startTagging({ scope: 'new' }));
$('retag-all').onclick = run(() => api.startTagging({ scope: 'all' }));
$('pause').onclick = run(() => api.pauseTagging());
$('resume').onclick = run(() => api.resumeTagging());
$('cancel').onclick = run(() => api.cancelTagging());

const threshold = $('threshold') as HTMLInputElement;
threshold.oninput = () => ($('threshold-value').textContent = `${Math.round(Number(threshold.value) * 100)}%`);
threshold.onchange = run(async () => {
  settings = await api.updateSettings({ threshold: Number(threshold.value) });
  await refreshLibrary();
  if (selected) await select(pages.get(0)?.id === selected.id ? pages.get(0)! : (await api.query({ text: selected.name, limit: 1 })).photos[0] ?? selected);
});

let searchTimer = 0;
($('search') as HTMLInputElement).oninput = (event) => {
  searchText = (event.target as HTMLInputElement).value;
  clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => void refreshLibrary(), 150);
};

($('add-tag-form') as HTMLFormElement).onsubmit = (event) => {
  event.preventDefault();
  const input = $('add-tag') as HTMLInputElement;
  const tag = input.value.trim();
  if (!tag || !selected) return;
  input.value = '';
  void edit(() => api.addTag(selected!.id, tag));
};

$('similar-button').onclick = run(async () => {
  if (!selected) return;
  const results = await api.similar(selected.id, 9);
  const box = $('similar');
  if (results.length === 0) {
    box.replaceChildren(el('p', 'muted', 'No similar photos yet: tag the library first.'));
    return;
  }
  box.replaceChildren(...results.map(({ photo, similarity }) => {
    const item = el('div', 'similar-item');
    const img = el('img');
    img.src = api.thumbnailUrl(photo.id);
    img.alt = photo.name;
    item.title = `${photo.name}: ${photo.tags.map((t) => t.name).join(', ')}`;
    item.dataset.id = photo.id;
    item.append(img, el('span', undefined, `${photo.name} · ${similarity.toFixed(2)}`));
    item.onclick = () => void select(photo);
    return item;
  }));
});

// Teach a tag: suggestions from a head trained on the photos tagged by hand; only Accept (or the
// opt-in checkbox, above the confidence threshold) writes the tag.
($('teach-form') as HTMLFormElement).onsubmit = (event) => {
  event.preventDefault();
  const tag = ($('teach-tag') as HTMLInputElement).value.trim();
  if (!tag) return;
  const status = $('teach-status');
  const list = $('teach-suggestions');
  ($('teach-button') as HTMLButtonElement).disabled = true;
  status.textContent = `Teaching “${tag}”…`;
  list.replaceChildren();
  void api
    .teachTag(tag, { autoApply: ($('teach-auto') as HTMLInputElement).checked })
    .then(async (result) => {
      status.textContent = `Learnt “${result.tag}” from ${result.positives} photos (against ${result.negatives})${result.applied ? `; wrote it to ${result.applied}` : ''}. Suggestions:`;
      list.replaceChildren(...result.suggestions.slice(0, 30).map(({ photo, score }) => suggestionRow(result.tag, photo, score)));
      if (result.applied) await refreshLibrary();
    })
    .catch((error: unknown) => {
      status.textContent = '';
      showError(error);
    })
    .finally(() => (($('teach-button') as HTMLButtonElement).disabled = false));
};

function suggestionRow(tag: string, photo: PhotoSummary, score: number): HTMLElement {
  const row = el('li', 'suggestion');
  row.dataset.id = photo.id;
  const img = el('img');
  img.src = api.thumbnailUrl(photo.id);
  img.alt = photo.name;
  const name = el('span', 'name', photo.name);
  name.title = photo.id;
  name.onclick = () => void select(photo);
  const accept = el('button', 'accept', 'Accept');
  accept.type = 'button';
  accept.title = `Tag “${photo.name}” “${tag}” (written to its sidecar as a hand tag)`;
  accept.onclick = () =>
    void edit(async () => {
      const updated = await api.acceptSuggestion(photo.id, tag);
      row.remove();
      return updated;
    });
  row.append(img, name, el('span', 'score', percent(score)), accept);
  return row;
}

const onSetting = (id: string, patch: () => Partial<Settings>) => {
  $(id).onchange = run(async () => {
    settings = await api.updateSettings(patch());
    await refreshLibrary();
  });
};
onSetting('merge-mode', () => ({ mergeMode: ($('merge-mode') as HTMLSelectElement).value as Settings['mergeMode'] }));
onSetting('engine', () => ({ engine: ($('engine') as HTMLSelectElement).value as Settings['engine'] }));
onSetting('precision', () => {
  // The next model load says how the new setting went.
  showPrecision(undefined);
  return { precision: ($('precision') as HTMLSelectElement).value as Settings['precision'] };
});
onSetting('ignore', () => ({ ignoreLabels: ($('ignore') as HTMLInputElement).value.split(',').map((s) => s.trim()).filter(Boolean) }));
$('weights').onchange = run(async () => {
  const select = $('weights') as HTMLSelectElement;
  if (select.value === 'imagenet') settings = await api.updateSettings({ weights: { kind: 'imagenet' } });
  else {
    const path = await api.chooseWeightsFile();
    if (path) settings = await api.updateSettings({ weights: { kind: 'file', path } });
    else select.value = settings.weights.kind;
  }
  $('weights-file').textContent = settings.weights.kind === 'file' ? settings.weights.path : '';
});

async function init(): Promise<void> {
  settings = await api.getSettings();
  threshold.value = String(settings.threshold);
  threshold.oninput?.(new Event('input'));
  ($('merge-mode') as HTMLSelectElement).value = settings.mergeMode;
  ($('engine') as HTMLSelectElement).value = settings.engine;
  ($('precision') as HTMLSelectElement).value = settings.precision;
  ($('weights') as HTMLSelectElement).value = settings.weights.kind;
  ($('ignore') as HTMLInputElement).value = settings.ignoreLabels.join(', ');
  // The served shell sends the queue's state as soon as its socket opens, maybe before this point.
  if (!progressSeen) showProgress({ state: 'idle', done: 0, failed: 0, total: 0 });
  await refreshLibrary();
  document.body.dataset.ready = 'true';
  if (served) return showServedEngine();
  // The webgl engine: the worker is the built inference-worker.js beside this script.
  const inference = await startRendererInference(api, new URL('./inference-worker.js', import.meta.url));
  const { gpu } = inference;
  $('gpu-info').textContent = !gpu.webgl
    ? 'GPU: no WebGL here; the webgl engine cannot run.'
    : `GPU: ${gpu.renderer ?? 'unknown'}${gpu.realGpu ? '' : ' (software rendering: WebGL would be slow here)'}; webgl runs in ${inference.where === 'worker' ? 'a Web Worker' : 'this window'}.`;
}

/**
 * Served, the server tags (webgl runs only in the desktop app, and the server refuses it): no
 * webgl worker starts, so the page's CPU stays with tagging.
 */
function showServedEngine(): void {
  $('engine').querySelector('option[value="webgl"]')?.remove();
  $('gpu-info').textContent = 'GPU: not used; the server tags the photos (webgl runs in the desktop app only).';
}

void init().catch(showError);
