import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { fetchBytes } from './download.js';
import { FileTooLargeError, NotARegularFileError, readRegularFile } from './regular-file.js';
import { WeightsDownloadError, WeightsFileError } from './errors.js';
import type { ReadWeightsOptions, XceptionWeightsReading } from './keras-h5.js';
import { checkUrlShardPath, insideModelDirectory, readTfjsArtifactsAt, type ArtifactsLocation } from './tfjs-artifacts-decode.js';

/**
 * Reads TensorFlow.js layers-model artifacts (model.json + binary shards, from a path, a
 * directory holding model.json, or an http(s) URL) into Xception's weight names. The manifest
 * is checked before any shard is trusted: shard paths must stay inside the model's directory,
 * and shard lengths must add up to what the manifest declares. Weights decode through
 * tf.io.decodeWeights (tfjs' own dequantization of uint8/uint16/float16); names map onto layers
 * through the topology, so converter suffixes (`block1_conv1_1/kernel`) and auto-named residual
 * layers (`conv2d_4`) are handled. Needs a registered tfjs backend (decoding makes tensors,
 * which are disposed before returning). Remote files go through the same HTTP(S)_PROXY-aware
 * client as downloads.
 */
export async function readTfjsArtifacts(pathOrUrl: string | URL, options: ReadWeightsOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<XceptionWeightsReading> {
  return readTfjsArtifactsAt(await locate(pathOrUrl, options.env), options);
}

async function locate(pathOrUrl: string | URL, env: NodeJS.ProcessEnv | undefined): Promise<ArtifactsLocation> {
  const asUrl = pathOrUrl instanceof URL ? pathOrUrl : /^https?:\/\//i.test(pathOrUrl) ? new URL(pathOrUrl) : null;
  if (asUrl) {
    return {
      display: asUrl.href,
      url: asUrl,
      modelJson: asUrl.href,
      async read(relative, maxBytes) {
        const url = new URL(relative, asUrl);
        // A redirect is checked as the first address was: a shard's may not leave the model's directory.
        const checkRedirect = relative === asUrl.href ? undefined : (to: URL): void => {
          if (!insideModelDirectory(asUrl, to)) {
            throw new WeightsFileError('ERR_WEIGHTS_SHARD_PATH', `${url.href} redirects to ${to.href}, outside the model's directory ${new URL('.', asUrl).href}, so the redirect is refused; serve the shards beside model.json.`, { url: to.href });
          }
        };
        try {
          return await fetchBytes(url.href, { maxBytes, ...(env ? { env } : {}), ...(checkRedirect ? { checkRedirect } : {}) });
        } catch (cause) {
          if (!(cause instanceof WeightsDownloadError)) throw cause;
          throw new WeightsFileError('ERR_WEIGHTS_NOT_FOUND', `${url.href} could not be fetched: ${cause.message}; check the address and the network.`, { url: url.href, cause });
        }
      },
      checkShardPath: (p, fail) => checkUrlShardPath(asUrl, p, fail),
      shardWhere: (p) => ({ url: new URL(p, asUrl).href }),
    };
  }
  const given = String(pathOrUrl);
  const info = await stat(given).catch(() => null);
  if (!info) throw new WeightsFileError('ERR_WEIGHTS_NOT_FOUND', `${given} does not exist; pass the path of a tfjs model.json or of its directory.`, { path: given });
  const modelJson = info.isDirectory() ? join(given, 'model.json') : given;
  const dir = dirname(modelJson);
  return {
    display: modelJson,
    path: modelJson,
    modelJson,
    async read(relative, maxBytes) {
      const file = relative === modelJson ? modelJson : join(dir, relative);
      try {
        return await readRegularFile(file, maxBytes);
      } catch (cause) {
        if (cause instanceof NotARegularFileError) {
          throw new WeightsFileError('ERR_WEIGHTS_NOT_FOUND', `${file} is ${cause.kind}, not a regular file, so it is not read; copy the real ${file === modelJson ? 'model.json' : 'shard'} there.`, { path: file, cause });
        }
        if (cause instanceof FileTooLargeError) {
          throw new WeightsFileError(file === modelJson ? 'ERR_WEIGHTS_MANIFEST' : 'ERR_WEIGHTS_SHARD_SIZE', `${file} holds ${cause.bytes} bytes, more than the ${maxBytes} ${file === modelJson ? 'a model.json can need' : "its whole weight group needs"}; copy the artifacts again.`, { path: file, cause });
        }
        const code = (cause as NodeJS.ErrnoException).code;
        throw new WeightsFileError('ERR_WEIGHTS_NOT_FOUND', `${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}; ${file === modelJson ? 'pass the path of a tfjs model.json' : 'copy every shard named in model.json beside it'}.`, { path: file, cause });
      }
    },
    checkShardPath(p, fail) {
      const normalized = normalize(p);
      if (p.length === 0 || isAbsolute(p) || /^[a-z][a-z0-9+.-]*:/i.test(p) || p.includes('\\') || normalized === '..' || normalized.startsWith(`..${sep}`) || p.split('/').includes('..')) {
        throw fail('ERR_WEIGHTS_SHARD_PATH', `shard path '${p}' leaves the model's directory ${dir}; shards must sit beside model.json, so this manifest is refused.`, { path: join(dir, p) });
      }
    },
    shardWhere: (p) => ({ path: join(dir, p) }),
  };
}

