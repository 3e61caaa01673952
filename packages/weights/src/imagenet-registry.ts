/**
 * The known ImageNet weight files (the same entries as weights/registry.json at the repository
 * root, which a test keeps identical; the package carries its own copy so that it works when
 * installed from npm).
 */
export interface WeightsRegistryEntry {
  readonly id: string;
  readonly includeTop: boolean;
  readonly fileName: string;
  readonly bytes: number;
  readonly md5: string;
  /** Recorded once someone holds the file; null until then. */
  readonly sha256: string | null;
  readonly format: 'keras-h5';
  /** Addresses to try in order: Keras' own first, then mirrors. */
  readonly urls: readonly string[];
  readonly source: string;
  readonly license: string;
}

export interface WeightsRegistry {
  readonly version: number;
  readonly files: readonly WeightsRegistryEntry[];
}

export const IMAGENET_REGISTRY: WeightsRegistry = {
  version: 1,
  files: [
    {
      id: 'xception-imagenet',
      includeTop: true,
      fileName: 'xception_weights_tf_dim_ordering_tf_kernels.h5',
      bytes: 91884032,
      md5: '0a58e3b7378bc2990ea3b43d5981f1f6',
      sha256: null,
      format: 'keras-h5',
      urls: [
        'https://storage.googleapis.com/tensorflow/keras-applications/xception/xception_weights_tf_dim_ordering_tf_kernels.h5',
        'https://github.com/fchollet/deep-learning-models/releases/download/v0.4/xception_weights_tf_dim_ordering_tf_kernels.h5',
      ],
      source: 'Keras Applications (François Chollet), trained on ImageNet; top-1 0.790, top-5 0.945 as Keras reports',
      license: 'MIT (keras-team/keras-applications, fchollet/deep-learning-models)',
    },
    {
      id: 'xception-imagenet-notop',
      includeTop: false,
      fileName: 'xception_weights_tf_dim_ordering_tf_kernels_notop.h5',
      bytes: 83683744,
      md5: 'b0042744bf5b25fce3cb969f33bebb97',
      sha256: null,
      format: 'keras-h5',
      urls: [
        'https://storage.googleapis.com/tensorflow/keras-applications/xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5',
        'https://github.com/fchollet/deep-learning-models/releases/download/v0.4/xception_weights_tf_dim_ordering_tf_kernels_notop.h5',
      ],
      source: 'Keras Applications (François Chollet), trained on ImageNet, without the classifier',
      license: 'MIT (keras-team/keras-applications, fchollet/deep-learning-models)',
    },
  ],
};

/** The registry entry for the ImageNet file with or without the top. */
export function imagenetEntry(includeTop: boolean, registry: WeightsRegistry = IMAGENET_REGISTRY): WeightsRegistryEntry {
  const entry = registry.files.find((f) => f.includeTop === includeTop);
  if (!entry) throw new Error(`the weights registry has no ImageNet entry with includeTop ${includeTop}`);
  return entry;
}
