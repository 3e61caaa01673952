/**
 * tfjs-node (or -node-gpu, CUDA) is optional: its install downloads libtensorflow, which is not
 * always possible. It is looked for at run time and never required.
 */
export interface TfjsNodeProbe {
  available: boolean;
  /** The package that loaded, or why none did. */
  detail: string;
}

let probe: Promise<TfjsNodeProbe> | null = null;

export function probeTfjsNode(): Promise<TfjsNodeProbe> {
  probe ??= (async () => {
    const reasons: string[] = [];
    for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await import(name);
        return { available: true, detail: name };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        reasons.push(code === 'ERR_MODULE_NOT_FOUND' ? `${name} is not installed` : `${name} failed to load (${firstLine(error)})`);
      }
    }
    return { available: false, detail: reasons.join('; ') };
  })();
  return probe;
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!.slice(0, 160);
}
