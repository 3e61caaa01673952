import { availableParallelism } from 'node:os';
import { onnxSessionOptions, probeOnnxRuntime, type EngineBatch, type EngineResult, type InferenceEngine } from '@xception/engines';
// The exporter's entry loads protobufjs: only a run given an .onnx file needs it (imported below).
import type { decodeOnnxModel } from '@xception/onnx';
import { ONNX_IO } from '@xception/onnx/io';
import { preprocessInput } from '@xception/vision-utils';
import { reasonOf, RuntimeError } from './runtime-error.js';

export interface OnnxFileEngine extends InferenceEngine {
  /** The input side fixed in the file, or null when the file takes any size. */
  readonly imageSize: number | null;
  readonly classes: number;
}

/**
 * Runs an .onnx file written by `xception weights convert --to onnx` (@xception/onnx's export:
 * NHWC float32 'images' in, 'output' and 'features' out) on onnxruntime-node. @xception/engines
 * exports its ONNX from Keras weights; a ready file needs no export, only a session.
 */
export async function createOnnxFileEngine(bytes: Uint8Array, where: string, threads?: number): Promise<OnnxFileEngine> {
  const fail = (message: string): never => { throw new RuntimeError('ERR_RUNTIME_WEIGHTS', 'weights', (w) => `${w.option('weights', where)} ${message}.`); };
  let summary: ReturnType<typeof decodeOnnxModel>;
  try {
    summary = (await import('@xception/onnx')).decodeOnnxModel(bytes);
  } catch (error) {
    return fail(`is not an ONNX model (${reasonOf(error)}); pass a file written by \`xception weights convert --to onnx\``);
  }
  const input = summary.inputs.find((i) => i.name === ONNX_IO.input);
  const output = summary.outputs.find((o) => o.name === ONNX_IO.output);
  if (!input || !output || !summary.outputs.some((o) => o.name === ONNX_IO.features)) {
    fail(`has inputs [${summary.inputs.map((i) => i.name).join(', ')}] and outputs [${summary.outputs.map((o) => o.name).join(', ')}], not Xception's '${ONNX_IO.input}' → '${ONNX_IO.output}' and '${ONNX_IO.features}'; pass a file written by \`xception weights convert --to onnx\``);
  }
  const classes = output!.dims.length === 2 && typeof output!.dims[1] === 'number' ? output!.dims[1] : fail('has no classifier top ([N, classes] output); convert weights that include the top');
  const side = input!.dims[1];
  const probe = await probeOnnxRuntime();
  if (!probe.available || !probe.ort) {
    throw new RuntimeError('ERR_ENGINE_UNAVAILABLE', 'weights', (w) => `${w.option('weights', where)}: an .onnx file runs on onnxruntime-node, which cannot load here (${probe.detail}); install onnxruntime-node, or pass the Keras weights (.keras, .h5 or model.json) instead.`);
  }
  const ort = probe.ort;
  const count = Math.max(1, threads ?? availableParallelism());
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(bytes, onnxSessionOptions(['cpu'], count));
  } catch (error) {
    return fail(`did not load in onnxruntime (${reasonOf(error)}); convert the weights again`);
  }
  return {
    name: 'onnx',
    detail: `onnx (onnxruntime-node ${ort.env?.versions?.node ?? '?'}, cpu, ${count} thread${count === 1 ? '' : 's'}; model ${where})`,
    parallelism: 1,
    imageSize: typeof side === 'number' && side > 0 ? side : null,
    classes: classes as number,
    async run(batch: EngineBatch): Promise<EngineResult> {
      const floats = batch.pixels instanceof Float32Array ? batch.pixels : preprocessInput(batch.pixels);
      const r = await session.run({ [ONNX_IO.input]: new ort.Tensor('float32', floats, [batch.count, batch.height, batch.width, 3]) });
      const out = r[ONNX_IO.output]!;
      return { output: out.data as Float32Array, outputShape: out.dims.map(Number), features: r[ONNX_IO.features]!.data as Float32Array };
    },
    async dispose() {
      await session.release();
    },
  };
}
