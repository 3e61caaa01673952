// The subpath, not the package: the inference threads import this, and @xception/weights' entry loads its HDF5 and Keras readers.
import { sha256OfFile as sha256OrThrow } from '@xception/weights/file-hashes';

/** The SHA-256 of a file's bytes (@xception/weights' sha256OfFile), or '' when it cannot be read. */
export async function sha256OfFile(path: string): Promise<string> {
  return sha256OrThrow(path).catch(() => '');
}
