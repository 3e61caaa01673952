/**
 * The URL to start a worker thread on module `name` of this package. Built, it is `<name>.js`
 * beside this file. Running from the TypeScript sources (tests, tsx), loader hooks do not reach
 * worker threads in Node 20, so a small bootstrap registers tsx in the thread before importing
 * `<name>.ts`.
 */
export function threadEntry(name: string): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL(`./${name}.js`, import.meta.url);
  const target = new URL(`./${name}.ts`, import.meta.url).href;
  return new URL(`data:text/javascript,import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(target)}); });`);
}

/** The Worker constructor's first argument for a threadEntry URL (data: URLs run as evaluated code). */
export function workerSource(url: URL): { source: string | URL; eval: boolean } {
  return url.protocol === 'data:' ? { source: url.href.slice('data:text/javascript,'.length), eval: true } : { source: url, eval: false };
}
