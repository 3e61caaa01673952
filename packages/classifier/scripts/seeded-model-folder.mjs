// Seeded sane random Xception weights as a tfjs model folder (model.json + shards), written by
// the repository's built packages: what the pack-install check and the browser benchmark load
// in place of ImageNet's weights, which cannot be downloaded here.
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { saneRandomWeights } from '@xception/core/testing';
import { writeTfjsArtifacts } from '@xception/weights';

export async function writeSeededModelFolder(outDir, size, seed = 13) {
  const config = resolveXceptionConfig({ includeTop: true, inputShape: [size, size, 3], weights: 'seeded' });
  return writeTfjsArtifacts({ outDir, config, values: saneRandomWeights(expectedWeights(config), seed) });
}
