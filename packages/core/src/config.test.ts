import { describe, expect, test } from 'vitest';
import { resolveXceptionConfig, XceptionConfigError, type XceptionOptions } from './index.js';

describe('resolveXceptionConfig: Keras defaults', () => {
  test('defaults are Keras Xception(): top, 299x299x3, 1000 classes, softmax, imagenet', () => {
    expect(resolveXceptionConfig()).toEqual({
      includeTop: true, inputShape: [299, 299, 3], pooling: null, classes: 1000,
      classifierActivation: 'softmax', weights: 'imagenet',
    });
  });
  test('without a top the input shape is dynamic, as in Keras', () => {
    expect(resolveXceptionConfig({ includeTop: false }).inputShape).toEqual([null, null, 3]);
  });
  test('Keras accepts these', () => {
    expect(() => resolveXceptionConfig({ includeTop: false, inputShape: [150, 200, 3], pooling: 'max' })).not.toThrow();
    expect(() => resolveXceptionConfig({ weights: null, inputShape: [71, 71, 3], classes: 10, classifierActivation: 'sigmoid' })).not.toThrow();
    expect(() => resolveXceptionConfig({ includeTop: false, inputShape: [null, 71, 3] })).not.toThrow();
    expect(() => resolveXceptionConfig({ weights: '/models/xception.h5', classes: 5 })).not.toThrow();
  });
  test('resolving is idempotent', () => {
    const once = resolveXceptionConfig({ includeTop: false, pooling: 'avg', inputShape: [100, 120, 3] });
    expect(resolveXceptionConfig(once)).toEqual(once);
  });
});

describe('resolveXceptionConfig: every Keras rule has its message', () => {
  const cases: Array<[string, XceptionOptions, string]> = [
    ['includeTop not a boolean', { includeTop: 'yes' as never }, "includeTop must be true or false; received 'yes'."],
    ['weights of the wrong kind', { weights: 42 as never },
      "weights must be null (random initialisation), 'imagenet' (pre-training on ImageNet), or the path or URL of a weights file; received 42."],
    ['empty weights path', { weights: '' },
      "weights must be null (random initialisation), 'imagenet' (pre-training on ImageNet), or the path or URL of a weights file; received ''."],
    ['classes not a positive integer', { weights: null, classes: 2.5 }, 'classes must be a positive integer; received 2.5.'],
    ['imagenet top with other classes', { classes: 10 },
      "With weights 'imagenet' and includeTop true, classes must be 1000; received 10 (use includeTop: false to train your own top)."],
    ['unknown pooling', { includeTop: false, pooling: 'mean' as never }, "pooling must be null, 'avg' or 'max'; received 'mean'."],
    ['pooling with a top', { pooling: 'avg' },
      "pooling applies only without a top; received pooling 'avg' with includeTop true (the top always average-pools)."],
    ['unknown activation', { weights: null, classifierActivation: 'relu' as never },
      "classifierActivation must be 'softmax', 'sigmoid' or null; received 'relu'."],
    ['non-softmax activation with pretrained weights', { classifierActivation: 'sigmoid' },
      "Only 'softmax' and null are allowed for classifierActivation with pretrained weights and includeTop true; received 'sigmoid'."],
    ['inputShape of rank 2', { includeTop: false, inputShape: [299, 299] as never }, 'inputShape must be [height, width, 3]; received [299,299].'],
    ['inputShape with a fractional side', { includeTop: false, inputShape: [99.5, 100, 3] },
      'inputShape sides must be positive integers or null; received [99.5,100,3].'],
    ['one channel', { includeTop: false, weights: null, inputShape: [128, 128, 1] }, 'The input must have 3 channels; received inputShape [128,128,1].'],
    ['four channels', { includeTop: false, inputShape: [128, 128, 4] }, 'The input must have 3 channels; received inputShape [128,128,4].'],
    ['imagenet top not at 299', { inputShape: [224, 224, 3] },
      "With includeTop true and weights 'imagenet', inputShape must be [299, 299, 3]; received [224,224,3] (use includeTop: false for other sizes)."],
    ['height below 71', { includeTop: false, inputShape: [70, 100, 3] }, 'Input size must be at least 71x71; received inputShape [70,100,3].'],
    ['width below 71', { includeTop: false, inputShape: [null, 32, 3] }, 'Input size must be at least 71x71; received inputShape [null,32,3].'],
    ['a top with a dynamic side', { weights: null, inputShape: [null, 299, 3] },
      'With includeTop true, inputShape must be static (no null sides); received [null,299,3].'],
  ];
  test.each(cases)('%s', (_label, options, message) => {
    let caught: unknown;
    try {
      resolveXceptionConfig(options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(XceptionConfigError);
    expect((caught as XceptionConfigError).code).toBe('ERR_XCEPTION_CONFIG');
    expect((caught as Error).message).toBe(message);
  });
});
