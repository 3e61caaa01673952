/**
 * Where fine-tuning starts, importable without loading tfjs (`@xception/training/choices`): a
 * CLI's flag list and its `--help` need the names, and loading the trainer costs ~0.3 s.
 *
 * 'block13' trains blocks 13 and 14 and the classifier; 'predictions' trains the classifier
 * alone. Layers are chosen by their Keras names (`block13_sepconv1`, `block13_residual_conv`...),
 * as Keras users do with `layer.name.startswith(...)`.
 */
export type TrainableFrom = `block${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14}` | 'predictions';

export const TRAINABLE_FROM_CHOICES: readonly TrainableFrom[] = [
  ...Array.from({ length: 14 }, (_, i) => `block${i + 1}` as TrainableFrom),
  'predictions',
];
