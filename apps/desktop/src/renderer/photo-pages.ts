import type { LibraryQuery, PhotoSummary, QueryResult } from '../shared/api.js';

/**
 * The result list of the current query, fetched from the main process in pages as the grid
 * scrolls. A new query bumps the generation, so that late answers to an old one are dropped.
 */
export interface PhotoPages {
  readonly total: number;
  get(index: number): PhotoSummary | undefined;
  /** Loads the pages covering [from, to]; calls onLoaded when any arrive. */
  want(from: number, to: number): void;
  /** Runs a new query; resolves with its total. */
  reset(query: LibraryQuery): Promise<number>;
  /** Replaces one photo (after a hand edit) wherever it is loaded. */
  update(photo: PhotoSummary): void;
}

export function createPhotoPages(fetch: (query: LibraryQuery) => Promise<QueryResult>, onLoaded: () => void, pageSize = 200): PhotoPages {
  let query: LibraryQuery = {};
  let total = 0;
  let generation = 0;
  let pages = new Map<number, PhotoSummary[]>();
  let inFlight = new Set<number>();

  const load = (page: number): void => {
    if (pages.has(page) || inFlight.has(page)) return;
    inFlight.add(page);
    const mine = generation;
    void fetch({ ...query, offset: page * pageSize, limit: pageSize }).then((result) => {
      if (mine !== generation) return;
      inFlight.delete(page);
      pages.set(page, result.photos);
      total = result.total;
      onLoaded();
    });
  };

  return {
    get total() {
      return total;
    },
    get: (index) => pages.get(Math.floor(index / pageSize))?.[index % pageSize],
    want(from, to) {
      for (let page = Math.floor(from / pageSize); page <= Math.floor(to / pageSize); page++) load(page);
    },
    async reset(next) {
      query = next;
      generation++;
      pages = new Map();
      inFlight = new Set();
      const mine = generation;
      const first = await fetch({ ...query, offset: 0, limit: pageSize });
      if (mine === generation) {
        pages.set(0, first.photos);
        total = first.total;
      }
      return total;
    },
    update(photo) {
      for (const list of pages.values()) {
        const at = list.findIndex((p) => p.id === photo.id);
        if (at >= 0) list[at] = photo;
      }
    },
  };
}
