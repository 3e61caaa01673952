import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface FileHashes {
  bytes: number;
  md5: string;
  sha256: string;
}

/** md5 (what Keras publishes and checks) and sha256 in one pass over the file. */
export async function hashFile(path: string): Promise<FileHashes> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}
