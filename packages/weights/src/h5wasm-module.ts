import h5wasm from 'h5wasm/node';

/** h5wasm compiles its WebAssembly once per process; every reader and writer awaits this. */
export async function loadH5wasm(): Promise<typeof h5wasm> {
  await h5wasm.ready;
  return h5wasm;
}
