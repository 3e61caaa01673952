type H5wasm = typeof import('h5wasm/node').default;

let loading: Promise<H5wasm> | null = null;

/**
 * h5wasm, imported and compiled on first use, once per process; every reader and writer awaits
 * this. Not imported at the top of a module: its import compiles the WebAssembly at once (about
 * 0.3–0.5 s of CPU on a 2-core VM), which every importer of @xception/weights then paid, the
 * CLI's threads included, even those that never open an HDF5 file.
 */
export function loadH5wasm(): Promise<H5wasm> {
  loading ??= (async () => {
    const h5wasm = (await import('h5wasm/node')).default;
    await h5wasm.ready;
    return h5wasm;
  })();
  return loading;
}
