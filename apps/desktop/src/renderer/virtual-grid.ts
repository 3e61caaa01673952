/**
 * A virtualised grid: only the rows in view (plus a few above and below) exist in the DOM, so
 * scrolling 50,000 photos costs the same as scrolling 50. Tiles are recycled by position and
 * filled by the caller; items arrive asynchronously in pages (see photo-pages.ts).
 */
export interface VirtualGridOptions<T> {
  viewport: HTMLElement;
  tileWidth: number;
  tileHeight: number;
  gap?: number;
  /** Rows rendered beyond the visible ones on each side. */
  overscan?: number;
  /** The item at an index, or undefined while its page is loading. */
  item(index: number): T | undefined;
  /** Fills a tile (created empty by the grid) for an item; undefined: a placeholder. */
  render(tile: HTMLElement, item: T | undefined, index: number): void;
  /** Asks for the items of an index range (the visible ones) to be loaded. */
  want?(from: number, to: number): void;
}

export interface VirtualGrid {
  /** The number of items (a new query's, or more photos found); tiles in view are kept and filled again. */
  setCount(count: number): void;
  /** Re-renders the visible tiles (after items arrived or changed). */
  refresh(): void;
  scrollToIndex(index: number): void;
  /** Indices currently in the DOM, for tests and keyboard navigation. */
  renderedRange(): [number, number];
}

export function createVirtualGrid<T>(options: VirtualGridOptions<T>): VirtualGrid {
  const gap = options.gap ?? 8;
  const overscan = options.overscan ?? 2;
  const { viewport } = options;
  const spacer = document.createElement('div');
  spacer.className = 'grid-spacer';
  spacer.style.position = 'relative';
  viewport.append(spacer);
  const tiles = new Map<number, HTMLElement>();
  let count = 0;
  let range: [number, number] = [0, -1];
  let frame = 0;

  const columns = (): number => Math.max(1, Math.floor((viewport.clientWidth - gap) / (options.tileWidth + gap)));
  const rowHeight = options.tileHeight + gap;

  const layout = (): void => {
    frame = 0;
    const cols = columns();
    const rows = Math.ceil(count / cols);
    spacer.style.height = `${rows * rowHeight + gap}px`;
    const firstRow = Math.max(0, Math.floor(viewport.scrollTop / rowHeight) - overscan);
    const lastRow = Math.min(rows - 1, Math.ceil((viewport.scrollTop + viewport.clientHeight) / rowHeight) + overscan);
    const from = firstRow * cols;
    const to = Math.min(count - 1, (lastRow + 1) * cols - 1);
    range = [from, to];
    for (const [index, tile] of tiles) {
      if (index < from || index > to) {
        tile.remove();
        tiles.delete(index);
      }
    }
    for (let index = from; index <= to; index++) {
      let tile = tiles.get(index);
      if (!tile) {
        tile = document.createElement('div');
        tile.className = 'tile';
        tile.style.position = 'absolute';
        tile.style.width = `${options.tileWidth}px`;
        tile.style.height = `${options.tileHeight}px`;
        tiles.set(index, tile);
        spacer.append(tile);
      }
      const row = Math.floor(index / cols);
      const col = index % cols;
      tile.style.transform = `translate(${gap + col * (options.tileWidth + gap)}px, ${gap + row * rowHeight}px)`;
      tile.dataset.index = String(index);
      options.render(tile, options.item(index), index);
    }
    if (to >= from) options.want?.(from, to);
  };
  const schedule = (): void => {
    if (!frame) frame = requestAnimationFrame(layout);
  };

  viewport.addEventListener('scroll', schedule, { passive: true });
  new ResizeObserver(schedule).observe(viewport);

  return {
    setCount(next) {
      // Tiles stay: layout() drops those past the end, and render() leaves unchanged ones alone.
      count = next;
      viewport.scrollTop = Math.min(viewport.scrollTop, Math.max(0, Math.ceil(count / columns()) * rowHeight - viewport.clientHeight));
      layout();
    },
    refresh: layout,
    scrollToIndex(index) {
      viewport.scrollTop = Math.floor(index / columns()) * rowHeight;
      layout();
    },
    renderedRange: () => range,
  };
}
