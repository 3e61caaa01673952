import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oraclePython, runOraclePython, SKIP_NO_ORACLE_PYTHON } from '@xception/test-kit';
import { calibrateInt8, exportXceptionOnnx, ONNX_IO, type CalibrationImages, type Int8Calibration, type OrtForCalibration } from './index.js';

const SIZE = 71;
const python = oraclePython();
if (!python) console.warn(`the onnx checker test is ${SKIP_NO_ORACLE_PYTHON}`);

/** Smooth seeded patterns in [-1, 1] (what this test needs: activations of every sign, not photos' content). */
function patterns(count: number, seed: number): CalibrationImages {
  const pixels = new Float32Array(count * SIZE * SIZE * 3);
  for (let i = 0; i < pixels.length; i++) {
    const [n, y, x, c] = [Math.floor(i / (SIZE * SIZE * 3)), Math.floor(i / (SIZE * 3)) % SIZE, Math.floor(i / 3) % SIZE, i % 3];
    pixels[i] = Math.sin((x * (c + 1) + y * (n + seed)) / 9 + n) * 0.9;
  }
  return { pixels, count, height: SIZE, width: SIZE };
}

describe('QDQ int8 model (71x71, seeded weights, 8 patterns)', () => {
  let dir: string;
  let fp32: Uint8Array;
  let int8: Int8Calibration;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xception-qdq-'));
    fp32 = exportXceptionOnnx({ includeTop: true, inputShape: [SIZE, SIZE, 3], seed: 3 }, null).bytes;
    int8 = await calibrateInt8(ort as unknown as OrtForCalibration, fp32, patterns(8, 1), 'minmax');
    writeFileSync(join(dir, 'fp32.onnx'), fp32);
    writeFileSync(join(dir, 'int8.onnx'), int8.bytes);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs in onnxruntime-node with the fp32 model\'s inputs and outputs', async () => {
    const session = await ort.InferenceSession.create(int8.bytes);
    const image = patterns(1, 7);
    const r = await session.run({ [ONNX_IO.input]: new ort.Tensor('float32', image.pixels, [1, SIZE, SIZE, 3]) });
    expect(r[ONNX_IO.output]!.dims).toEqual([1, 1000]);
    expect(r[ONNX_IO.features]!.dims).toEqual([1, 2048]);
    const sum = (r[ONNX_IO.output]!.data as Float32Array).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 4); // the softmax stays float
    await session.release();
  });

  it('records agreement on the held-out quarter of the photos', () => {
    expect(int8.agreement.heldOut).toBe(2);
    expect(int8.agreement.calibrated).toBe(6);
    expect(int8.agreement.embeddingCosine).toBeGreaterThan(0.9);
  });

  it.skipIf(!python)('passes the onnx checker, fuses into onnxruntime\'s int8 kernels, and its int8 weights are per-channel symmetric (Python onnx + onnxruntime)', () => {
    // The oracle reads both files itself: onnx.checker (full_check: shapes and types inferred),
    // onnxruntime's optimised graph (QLinearConv/QGemm appear only where the QDQ pattern is right),
    // and NumPy's own per-channel max |w| / 127 against the file's scales.
    const out = runOraclePython(python!, `
import sys, json, collections, numpy as np, onnx, onnxruntime as ort
from onnx import numpy_helper
d = sys.argv[1]
m = onnx.load(d + '/int8.onnx'); onnx.checker.check_model(m, full_check=True)
so = ort.SessionOptions(); so.optimized_model_filepath = d + '/opt.onnx'
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
ort.InferenceSession(d + '/int8.onnx', so, providers=['CPUExecutionProvider'])
ops = collections.Counter(n.op_type for n in onnx.load(d + '/opt.onnx').graph.node)
f = {t.name: numpy_helper.to_array(t) for t in onnx.load(d + '/fp32.onnx').graph.initializer}
q = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
worst = 0.0; dtypes = set()
for name, w in f.items():
    if name.endswith('/kernel') and w.ndim == 4:
        qw, s = q[name + '/quantized'], q[name + '/scale']
        dtypes.add(str(qw.dtype))
        expected = np.abs(w).reshape(w.shape[0], -1).max(axis=1) / 127
        worst = max(worst, float(np.max(np.abs(s - expected) / expected)))
        worst = max(worst, float(np.max(np.abs(qw * s[:, None, None, None] - w) / s[:, None, None, None])) - 0.5)
print(json.dumps({'ops': ops, 'worst': worst, 'dtypes': sorted(dtypes)}))
`, [dir]);
    const r = JSON.parse(out) as { ops: Record<string, number>; worst: number; dtypes: string[] };
    console.log('onnxruntime (Python) optimised int8 graph:', r.ops, 'worst scale / rounding error', r.worst);
    expect(r.ops.QLinearConv).toBe(74);
    expect(r.ops.QLinearAdd).toBe(12);
    expect(r.ops.Conv ?? 0).toBe(0);
    expect(r.ops.Gemm).toBe(1); // the classifier stays float (qdq-int8.ts says why)
    expect(r.dtypes).toEqual(['int8']);
    expect(r.worst).toBeLessThan(1e-5);
  }, 120_000);
});
