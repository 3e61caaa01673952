import { describeXception, firstNonFinite, RESIDUAL_LAYERS, resolveXceptionConfig, weightSpecsOf, type WeightSpec } from '@xception/core';
import { WeightsFileError } from './errors.js';

/** A weight as a file holds it, already float32, named by its layer and variable. */
export interface FileWeight {
  /** The variable: kernel, depthwise_kernel, gamma, moving_variance, bias... */
  readonly variable: string;
  /** The name in the file, for messages: `block1_conv1/kernel:0`, `block1_conv1_1/kernel`. */
  readonly fileName: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** A layer as a file holds it, in the file's model (topological) order. */
export interface FileLayer {
  readonly name: string;
  readonly weights: readonly FileWeight[];
}

export interface WeightValue {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export interface MappedWeights {
  /** Keras names as @xception/core expects them (see expectedWeights()). */
  readonly values: Map<string, WeightValue>;
  /** Whether the file has the classifier (`predictions`). */
  readonly hasTop: boolean;
  /** The classifier's width when the file has one. */
  readonly classes: number | null;
  /** File layer name to our layer name, for the four auto-named residual layers. */
  readonly residualNames: ReadonlyMap<string, string>;
}

export interface MappingOptions {
  /** Keep the classifier. Default: keep it when the file has one. */
  includeTop?: boolean;
  /** The classifier width the caller wants (checked against the file's). Default: the file's. */
  classes?: number;
  /** Where the weights come from, for messages. */
  source: { path?: string; url?: string };
}

const CONV_AUTO = /^conv2d(_\d+)?$/;
const BN_AUTO = /^batch_normalization(_\d+)?$/;

/** The variable of a file weight name: `block1_conv1_1/kernel:0` gives `kernel`. */
export function variableOf(weightName: string): string {
  return weightName.slice(weightName.lastIndexOf('/') + 1).replace(/:\d+$/, '');
}

/**
 * Maps a file's layers onto Xception's weight names. Named layers match by name; Keras leaves
 * the four residual convs and BatchNorms unnamed and numbers them per version and session
 * (conv2d_1..4, conv2d and conv2d_1..3, conv2d_4..7), so those map by their order in the file,
 * which is the model's topological order. Every check that could let a wrong file through
 * (missing layers, foreign layers, shapes, NaN/Inf) fails here with the file and layer named.
 */
export function mapToXception(layers: readonly FileLayer[], options: MappingOptions): MappedWeights {
  const where = options.source.path ?? options.source.url ?? 'the weights file';
  const err = (code: ConstructorParameters<typeof WeightsFileError>[0], message: string, layer?: string): WeightsFileError =>
    new WeightsFileError(code, `${where}: ${message}`, { ...options.source, ...(layer === undefined ? {} : { layer }) });

  const weighted = layers.filter((l) => l.weights.length > 0);
  const predictions = weighted.find((l) => l.name === 'predictions');
  const hasTop = predictions !== undefined;
  const includeTop = options.includeTop ?? hasTop;
  if (includeTop && !hasTop) {
    throw err('ERR_WEIGHTS_NO_TOP', `this file has no classifier layer 'predictions' (a notop file), so includeTop must be false; load it with includeTop: false, or use a file saved with the top.`, 'predictions');
  }
  const classes = predictions?.weights.find((w) => variableOf(w.fileName) === 'bias')?.shape[0] ?? null;
  const wantedClasses = options.classes ?? classes;
  const specs = weightSpecsOf(
    describeXception(resolveXceptionConfig({ includeTop, weights: null, inputShape: [299, 299, 3], ...(includeTop && wantedClasses ? { classes: wantedClasses } : {}) })),
  );
  const specsByLayer = new Map<string, WeightSpec[]>();
  for (const s of specs) specsByLayer.set(s.layer, [...(specsByLayer.get(s.layer) ?? []), s]);

  const convs = weighted.filter((l) => CONV_AUTO.test(l.name));
  const bns = weighted.filter((l) => BN_AUTO.test(l.name));
  // Files written by this package (and by anyone who named the layers) carry our stable names.
  const stableNamed = convs.length === 0 && bns.length === 0 && RESIDUAL_LAYERS.some((r) => weighted.some((l) => l.name === r.conv));
  if (!stableNamed && (convs.length !== RESIDUAL_LAYERS.length || bns.length !== RESIDUAL_LAYERS.length)) {
    throw err(
      'ERR_WEIGHTS_LAYER_MISSING',
      `Xception has ${RESIDUAL_LAYERS.length} unnamed residual Conv2D and ${RESIDUAL_LAYERS.length} BatchNormalization layers but this file has ${convs.length} (${convs.map((l) => l.name).join(', ') || 'none'}) and ${bns.length} (${bns.map((l) => l.name).join(', ') || 'none'}); it is not a Keras Xception weights file.`,
      (convs.length !== RESIDUAL_LAYERS.length ? 'conv2d' : 'batch_normalization'),
    );
  }
  const residualNames = new Map<string, string>();
  convs.forEach((l, i) => residualNames.set(l.name, RESIDUAL_LAYERS[i]!.conv));
  bns.forEach((l, i) => residualNames.set(l.name, RESIDUAL_LAYERS[i]!.bn));

  const values = new Map<string, WeightValue>();
  const seen = new Set<string>();
  for (const layer of weighted) {
    const ours = residualNames.get(layer.name) ?? layer.name;
    if (ours === 'predictions' && !includeTop) continue; // Keras ignores the top of a file with one.
    const wanted = specsByLayer.get(ours);
    if (!wanted) {
      throw err('ERR_WEIGHTS_FORMAT', `layer '${layer.name}' has weights but is not part of Keras' Xception; this is another model's weights file.`, layer.name);
    }
    seen.add(ours);
    for (const spec of wanted) {
      const variable = spec.name.slice(spec.layer.length + 1);
      const found = layer.weights.find((w) => w.variable === variable);
      if (!found) {
        throw err('ERR_WEIGHTS_LAYER_MISSING', `layer '${layer.name}' lacks its '${variable}' weight (it has ${layer.weights.map((w) => w.fileName).join(', ')}); the file does not hold Xception's weights.`, layer.name);
      }
      if (found.shape.length !== spec.shape.length || found.shape.some((d, i) => d !== spec.shape[i])) {
        const hint = ours === 'predictions' ? ` (a ${found.shape.at(-1)}-class top; set classes: ${found.shape.at(-1)} or use includeTop: false)` : '';
        throw err('ERR_WEIGHTS_SHAPE', `weight '${found.fileName}' of layer '${layer.name}' has shape [${found.shape.join(', ')}] but Xception expects [${spec.shape.join(', ')}]${hint}; the file does not hold Xception's weights.`, layer.name);
      }
      const bad = firstNonFinite(found.values);
      if (bad >= 0) {
        throw err('ERR_WEIGHTS_NON_FINITE', `weight '${found.fileName}' of layer '${layer.name}' holds ${String(found.values[bad])} at index ${bad}; the file is damaged or was saved from a diverged training run.`, layer.name);
      }
      values.set(spec.name, { shape: spec.shape, values: found.values });
    }
    if (layer.weights.length !== wanted.length) {
      throw err('ERR_WEIGHTS_FORMAT', `layer '${layer.name}' has ${layer.weights.length} weights but Xception's has ${wanted.length}; the file does not hold Xception's weights.`, layer.name);
    }
  }
  for (const layer of specsByLayer.keys()) {
    if (!seen.has(layer)) {
      throw err('ERR_WEIGHTS_LAYER_MISSING', `Xception's layer '${layer}' is missing from the file; the file is incomplete or belongs to another model.`, layer);
    }
  }
  return { values, hasTop, classes, residualNames };
}
