import { XceptionConfigError } from './errors.js';

/** Keras' `pooling` argument: how the 4D features are reduced when there is no top. */
export type XceptionPooling = 'avg' | 'max' | null;

/** Keras' `classifier_activation`; anything but softmax or null needs `weights: null`. */
export type ClassifierActivation = 'softmax' | 'sigmoid' | null;

/**
 * What the weights will be, used only to apply Keras' rules: 'imagenet', null (random
 * initialisation), or any other string (a path or URL to a file of pretrained weights).
 */
export type WeightsSource = 'imagenet' | null | (string & {});

/** Keras' `tf.keras.applications.Xception` arguments, in camelCase. */
export interface XceptionOptions {
  /** Include the 1000-way (or `classes`-way) classifier. Default true. */
  includeTop?: boolean;
  /** `[height, width, 3]`, each side at least 71, `null` for a dynamic side without a top. */
  inputShape?: readonly [number | null, number | null, number] | readonly (number | null)[];
  /** Without a top: null (4D features), 'avg' or 'max' (2D features). */
  pooling?: XceptionPooling;
  /** Number of classes of the top. Default 1000; must be 1000 with ImageNet weights. */
  classes?: number;
  /** Activation of the top. Default 'softmax'; null gives logits. */
  classifierActivation?: ClassifierActivation;
  /** Only for validation here; loading lives in @xception/weights. Default 'imagenet' as in Keras. */
  weights?: WeightsSource;
}

/** The options after defaults and validation: what the graph is built from. */
export interface XceptionConfig {
  readonly includeTop: boolean;
  readonly inputShape: readonly [number | null, number | null, 3];
  readonly pooling: XceptionPooling;
  readonly classes: number;
  readonly classifierActivation: ClassifierActivation;
  readonly weights: WeightsSource;
}

export const DEFAULT_SIZE = 299;
export const MIN_SIZE = 71;
const POOLINGS: readonly unknown[] = [null, 'avg', 'max'];
const ACTIVATIONS: readonly unknown[] = ['softmax', 'sigmoid', null];

const show = (value: unknown): string =>
  value === undefined ? 'undefined' : typeof value === 'string' ? `'${value}'` : JSON.stringify(value);

/**
 * Applies Keras' defaults and rules (applications/xception.py and imagenet_utils'
 * obtain_input_shape), throwing XceptionConfigError with Keras' reason and the allowed values.
 */
export function resolveXceptionConfig(options: XceptionOptions = {}): XceptionConfig {
  const includeTop = options.includeTop ?? true;
  const weights = options.weights === undefined ? 'imagenet' : options.weights;
  const classes = options.classes ?? 1000;
  const classifierActivation = options.classifierActivation === undefined ? 'softmax' : options.classifierActivation;
  const pooling = options.pooling ?? null;

  if (typeof includeTop !== 'boolean') {
    throw new XceptionConfigError(`includeTop must be true or false; received ${show(includeTop)}.`);
  }
  if (weights !== null && (typeof weights !== 'string' || weights.length === 0)) {
    throw new XceptionConfigError(
      `weights must be null (random initialisation), 'imagenet' (pre-training on ImageNet), or the path or URL of a weights file; received ${show(weights)}.`,
    );
  }
  if (!Number.isInteger(classes) || classes < 1) {
    throw new XceptionConfigError(`classes must be a positive integer; received ${show(classes)}.`);
  }
  if (weights === 'imagenet' && includeTop && classes !== 1000) {
    throw new XceptionConfigError(
      `With weights 'imagenet' and includeTop true, classes must be 1000; received ${classes} (use includeTop: false to train your own top).`,
    );
  }
  if (!POOLINGS.includes(pooling)) {
    throw new XceptionConfigError(`pooling must be null, 'avg' or 'max'; received ${show(pooling)}.`);
  }
  if (includeTop && pooling !== null) {
    throw new XceptionConfigError(
      `pooling applies only without a top; received pooling ${show(pooling)} with includeTop true (the top always average-pools).`,
    );
  }
  if (!ACTIVATIONS.includes(classifierActivation)) {
    throw new XceptionConfigError(
      `classifierActivation must be 'softmax', 'sigmoid' or null; received ${show(classifierActivation)}.`,
    );
  }
  if (includeTop && weights !== null && classifierActivation !== 'softmax' && classifierActivation !== null) {
    throw new XceptionConfigError(
      `Only 'softmax' and null are allowed for classifierActivation with pretrained weights and includeTop true; received ${show(classifierActivation)}.`,
    );
  }

  const inputShape = resolveInputShape(options.inputShape, includeTop, weights);
  return Object.freeze({ includeTop, inputShape, pooling, classes, classifierActivation, weights });
}

function resolveInputShape(
  given: XceptionOptions['inputShape'],
  includeTop: boolean,
  weights: WeightsSource,
): readonly [number | null, number | null, 3] {
  const defaultShape = [DEFAULT_SIZE, DEFAULT_SIZE, 3] as const;
  if (given === undefined || given === null) {
    return Object.freeze(includeTop ? defaultShape : ([null, null, 3] as const));
  }
  if (!Array.isArray(given) || given.length !== 3) {
    throw new XceptionConfigError(`inputShape must be [height, width, 3]; received ${show(given)}.`);
  }
  const [height, width, channels] = given as readonly unknown[];
  for (const side of [height, width]) {
    if (side !== null && (!Number.isInteger(side) || (side as number) < 1)) {
      throw new XceptionConfigError(`inputShape sides must be positive integers or null; received ${show(given)}.`);
    }
  }
  if (channels !== 3) {
    throw new XceptionConfigError(`The input must have 3 channels; received inputShape ${show(given)}.`);
  }
  if (weights === 'imagenet' && includeTop && (height !== DEFAULT_SIZE || width !== DEFAULT_SIZE)) {
    throw new XceptionConfigError(
      `With includeTop true and weights 'imagenet', inputShape must be [299, 299, 3]; received ${show(given)} (use includeTop: false for other sizes).`,
    );
  }
  if ((height !== null && (height as number) < MIN_SIZE) || (width !== null && (width as number) < MIN_SIZE)) {
    throw new XceptionConfigError(`Input size must be at least ${MIN_SIZE}x${MIN_SIZE}; received inputShape ${show(given)}.`);
  }
  if (includeTop && (height === null || width === null)) {
    throw new XceptionConfigError(
      `With includeTop true, inputShape must be static (no null sides); received ${show(given)}.`,
    );
  }
  return Object.freeze([height as number | null, width as number | null, 3] as const);
}
