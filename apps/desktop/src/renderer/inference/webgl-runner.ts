/**
 * Xception (@xception/core) on tfjs' webgl backend, answering the main process' inference
 * requests. Runs inside the inference Web Worker (OffscreenCanvas) or, where workers cannot
 * get a WebGL context, in the page itself. Everything here is browser code: no Node, no fetch
 * (the weights arrive over IPC), so the page's CSP needs no connect-src and no 'unsafe-eval'.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import { createXceptionFromValues, type XceptionModel } from '@xception/core';
import { preprocessInput } from '@xception/vision-utils';
import type { GpuInfo, InferenceReply, InferenceRequest } from '../../shared/api.js';

const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software|basic render|mesa offscreen/i;

/** Whether WebGL is there and whether it is a real GPU (not SwiftShader or llvmpipe). */
export function detectGpu(): GpuInfo {
  let gl: WebGLRenderingContext | WebGL2RenderingContext | null = null;
  try {
    const canvas: OffscreenCanvas | HTMLCanvasElement = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
    gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | WebGL2RenderingContext | null;
  } catch {
    gl = null;
  }
  if (!gl) return { webgl: false, renderer: null, realGpu: false };
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { webgl: true, renderer, realGpu: renderer.length > 0 && !SOFTWARE_GL.test(renderer) };
}

export interface WebglRunner {
  handle(request: InferenceRequest): Promise<InferenceReply>;
}

export function createWebglRunner(where: 'worker' | 'page'): WebglRunner {
  let model: XceptionModel | null = null;

  const run = async (request: InferenceRequest): Promise<NonNullable<InferenceReply & { ok: true }>['result']> => {
    switch (request.type) {
      case 'load': {
        if (!(await tf.setBackend('webgl'))) throw new Error('WebGL is not available here; choose the wasm engine in settings.');
        await tf.ready();
        model?.dispose();
        model = null;
        const { inputShape, weights, seed } = request.model;
        const values = weights ? new Map(weights.map((w) => [w.name, { shape: w.shape, values: w.values instanceof Float32Array ? w.values : Float32Array.from(w.values) }])) : null;
        model = createXceptionFromValues({ ...(inputShape ? { inputShape } : {}), ...(values ? { weights: 'webgl-weights' } : { weights: null }), ...(seed === undefined ? {} : { seed }) }, values);
        return { backend: tf.getBackend(), where };
      }
      case 'classify': {
        if (!model) throw new Error('The model is not loaded; call load first.');
        const pixels = request.pixels instanceof Uint8Array ? request.pixels : Uint8Array.from(request.pixels);
        const input = tf.tensor4d(preprocessInput(pixels), [1, request.height, request.width, 3], 'float32');
        try {
          const { output, features } = model.predictWithFeatures(input);
          try {
            const [probabilities, pooled] = await Promise.all([output.data(), features.data()]);
            return { probabilities: Float32Array.from(probabilities), features: Float32Array.from(pooled) };
          } finally {
            tf.dispose([output, features]);
          }
        } finally {
          input.dispose();
        }
      }
      case 'dispose':
        model?.dispose();
        model = null;
        return null;
    }
  };

  return {
    async handle(request) {
      try {
        return { id: request.id, ok: true, result: await run(request) };
      } catch (error) {
        return { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
