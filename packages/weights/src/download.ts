import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { basename, dirname, join } from 'node:path';
import tls from 'node:tls';
import { WeightsDownloadError, type WeightsDownloadErrorCode } from './errors.js';
import type { ProgressCallback } from './progress.js';

export interface DownloadOptions {
  /** Addresses to try in order (a mirror is tried when one fails). */
  urls: readonly string[];
  /** The final path; written only once the bytes and md5 match. */
  dest: string;
  /** Size and hashes to check; without them (a user's URL), the Content-Length is checked. */
  expected?: { bytes: number; md5: string; sha256?: string | null };
  onProgress?: ProgressCallback;
  /** Environment for HTTP_PROXY / HTTPS_PROXY / NO_PROXY (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Give up when no byte arrives for this long (connecting, the proxy tunnel, TLS, headers, body). Default 30 s. */
  idleTimeoutMs?: number;
  /** Tries per address when a transfer is cut or stalls; the next try resumes with a Range request. Default 3. */
  attempts?: number;
  /** The first wait between tries, doubled each time. Default 0.5 s. */
  retryDelayMs?: number;
  /** Refuse a body larger than this when no expected size is given (a server's stream never fills the disk). Default 2 GiB. */
  maxBytes?: number;
  /** What to tell the user when every address fails (where to put the file by hand). */
  manualHint: string;
  /** Called with each redirect's target before it is followed; throws to refuse it. */
  checkRedirect?: (to: URL) => void;
}

export interface DownloadResult {
  path: string;
  url: string;
  bytes: number;
  md5: string;
  sha256: string;
}

/**
 * Downloads to a temporary name unique to this process (`<dest>.<pid>.<random>.part`) in the
 * destination's directory, checks size and md5 while streaming, and renames onto `dest` only
 * when both match. A failed or interrupted transfer leaves no file behind under `dest`, and two
 * processes downloading at once each write their own temp file; rename is atomic, so `dest` is
 * always one complete file.
 */
export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  await mkdir(dirname(options.dest), { recursive: true });
  const failures: WeightsDownloadError[] = [];
  for (const url of options.urls) {
    const temp = join(dirname(options.dest), `${basename(options.dest)}.${process.pid}.${randomBytes(6).toString('hex')}.part`);
    try {
      const attempts = Math.max(1, options.attempts ?? 3);
      for (let attempt = 1; ; attempt++) {
        try {
          return await downloadOnce(url, temp, options);
        } catch (error) {
          if (!(error instanceof WeightsDownloadError)) throw error;
          // A cut or stalled transfer is worth another try (resumed where it stopped); a wrong
          // hash, an HTTP error or an unreachable host moves on to the next address.
          if (error.code !== 'ERR_DOWNLOAD_TRUNCATED' || attempt >= attempts) { failures.push(error); break; }
          await new Promise((resolve) => setTimeout(resolve, (options.retryDelayMs ?? 500) * 2 ** (attempt - 1)));
        }
      }
    } finally {
      await rm(temp, { force: true });
    }
  }
  // One error for the user: the most telling failure, with every address tried.
  const rank: WeightsDownloadErrorCode[] = ['ERR_DOWNLOAD_HASH', 'ERR_DOWNLOAD_TRUNCATED', 'ERR_DOWNLOAD_HTTP', 'ERR_DOWNLOAD_OFFLINE'];
  const worst = [...failures].sort((a, b) => rank.indexOf(a.code) - rank.indexOf(b.code))[0]!;
  const tried = failures.map((f) => `${f.url}: ${f.message}`).join('; ');
  throw new WeightsDownloadError(worst.code, `Could not download ${basename(options.dest)} (${tried}); ${options.manualHint}`, { url: worst.url!, path: options.dest, cause: worst });
}

/**
 * One try: a fresh GET, or, when `temp` holds the start of the file from an earlier try, a Range
 * request for the rest (a server that answers 200 instead sends it all again). The bytes already
 * there are hashed again from the file, so the hashes cover exactly what is on disk.
 */
async function downloadOnce(url: string, temp: string, options: DownloadOptions): Promise<DownloadResult> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let have = (await stat(temp).catch(() => null))?.size ?? 0;
  const response = await request(new URL(url), options, 0, have > 0 ? have : null);
  const resumed = have > 0 && response.statusCode === 206;
  if (resumed) {
    for await (const chunk of createReadStream(temp)) { md5.update(chunk as Buffer); sha256.update(chunk as Buffer); }
  } else {
    have = 0;
  }
  let bytes = have;
  const declared = Number(response.headers['content-length']);
  const declaredTotal = Number.isFinite(declared) && declared > 0 ? declared + have : null;
  const expectedBytes = options.expected?.bytes ?? declaredTotal;
  const cap = expectedBytes ?? options.maxBytes ?? 2 ** 31;
  const total = expectedBytes ?? 0;
  const out = createWriteStream(temp, { flags: resumed ? 'a' : 'w' });
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (error: Error): void => {
      if (failed) return;
      failed = true;
      response.destroy();
      // What reached the stream stays on disk for the next try's Range request.
      out.end(() => reject(error));
    };
    response.setTimeout(options.idleTimeoutMs ?? 30_000, () => fail(downloadError('ERR_DOWNLOAD_TRUNCATED', url, `no data for ${(options.idleTimeoutMs ?? 30_000) / 1000} s after ${bytes} of ${total} bytes`)));
    response.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (bytes + chunk.length > cap) {
        fail(downloadError('ERR_DOWNLOAD_HASH', url, `the server sent more than the ${cap} bytes expected; the file was not kept`));
        return;
      }
      bytes += chunk.length;
      md5.update(chunk);
      sha256.update(chunk);
      if (!out.write(chunk)) { response.pause(); out.once('drain', () => response.resume()); }
      options.onProgress?.({ phase: 'download', bytes, totalBytes: total, target: url });
    });
    response.on('aborted', () => fail(downloadError('ERR_DOWNLOAD_TRUNCATED', url, `the connection closed after ${bytes} of ${total} bytes`)));
    response.on('error', (e) => fail(downloadError('ERR_DOWNLOAD_TRUNCATED', url, `the connection failed after ${bytes} of ${total} bytes (${e.message})`)));
    response.on('end', () => {
      if (failed) return;
      out.end(() => resolve());
    });
    out.on('error', (e) => fail(e));
  });
  if (expectedBytes !== null && bytes !== expectedBytes) {
    throw downloadError('ERR_DOWNLOAD_TRUNCATED', url, `received ${bytes} bytes, expected ${expectedBytes}; the transfer was cut short`);
  }
  const got = { md5: md5.digest('hex'), sha256: sha256.digest('hex') };
  const want = options.expected;
  if (want && (got.md5 !== want.md5 || (want.sha256 && got.sha256 !== want.sha256))) {
    await rm(temp, { force: true }); // wrong bytes are not resumed
    const which = got.md5 !== want.md5 ? `md5 is ${got.md5} but should be ${want.md5}` : `sha256 is ${got.sha256} but should be ${want.sha256}`;
    throw downloadError('ERR_DOWNLOAD_HASH', url, `the file's ${which}; the file was not kept`);
  }
  // On disk before it gets its name: a power cut after the rename never leaves a file of zeros.
  await fsyncPath(temp);
  await rename(temp, options.dest);
  await fsyncPath(dirname(options.dest)).catch(() => undefined); // the rename itself; not every file system allows it
  options.onProgress?.({ phase: 'done', bytes, totalBytes: bytes, target: options.dest });
  return { path: options.dest, url, bytes, ...got };
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function downloadError(code: WeightsDownloadErrorCode, url: string, message: string): WeightsDownloadError {
  return new WeightsDownloadError(code, message, { url });
}

/** A GET that follows redirects and honours HTTP(S)_PROXY and NO_PROXY like curl does. */
async function request(url: URL, options: DownloadOptions, redirects: number, rangeFrom: number | null = null): Promise<http.IncomingMessage> {
  const env = options.env ?? process.env;
  const proxy = proxyFor(url, env);
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const offline = (e: Error): void =>
      reject(downloadError('ERR_DOWNLOAD_OFFLINE', url.href, proxy
        ? `the proxy ${proxy.href} could not be reached (${(e as NodeJS.ErrnoException).code ?? e.message}); check HTTPS_PROXY/HTTP_PROXY or the network`
        : `the server could not be reached (${(e as NodeJS.ErrnoException).code ?? e.message}); check the network`));
    const headers: Record<string, string> = { 'user-agent': '@xception/weights', accept: '*/*', ...(rangeFrom !== null ? { range: `bytes=${rangeFrom}-` } : {}) };
    const timeout = options.idleTimeoutMs ?? 30_000;
    if (!proxy) {
      const req = (url.protocol === 'https:' ? https : http).get(url, { headers, timeout }, resolve);
      req.on('error', offline);
      req.on('timeout', () => req.destroy(new Error('timed out')));
    } else if (url.protocol === 'http:') {
      // Plain HTTP through a proxy: the absolute URL goes to the proxy.
      const req = http.get({ host: proxy.hostname, port: proxy.port || 80, path: url.href, headers: { ...headers, host: url.host, ...proxyAuth(proxy) }, timeout }, resolve);
      req.on('error', offline);
      req.on('timeout', () => req.destroy(new Error('timed out')));
    } else {
      // HTTPS through a proxy: a CONNECT tunnel, then TLS to the server inside it.
      const connect = http.request({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: `${url.hostname}:${url.port || 443}`, headers: { host: `${url.hostname}:${url.port || 443}`, ...proxyAuth(proxy) }, timeout });
      connect.on('connect', (res, socket) => {
        if (res.statusCode !== 200) {
          socket.destroy();
          reject(downloadError('ERR_DOWNLOAD_HTTP', url.href, `the proxy ${proxy.href} refused the connection with HTTP ${res.statusCode}; check HTTPS_PROXY or the proxy's rules`));
          return;
        }
        const req = https.get(url, { headers, createConnection: () => tls.connect({ socket, servername: url.hostname }), timeout }, resolve);
        req.on('error', offline);
        // The TLS handshake and the headers inside the tunnel get the same limit as everything
        // else. A timer of our own: the request's `timeout` waits for a 'connect' that a socket
        // handed over by createConnection never emits.
        const timer = setTimeout(() => { req.destroy(new Error('timed out inside the proxy tunnel')); socket.destroy(); }, timeout);
        req.on('response', () => clearTimeout(timer));
        req.on('close', () => clearTimeout(timer));
      });
      connect.on('error', offline);
      connect.on('timeout', () => connect.destroy(new Error('timed out')));
      connect.end();
    }
  });
  const status = response.statusCode ?? 0;
  if (status >= 300 && status < 400 && response.headers.location && redirects < 5) {
    response.resume();
    const to = new URL(response.headers.location, url);
    options.checkRedirect?.(to);
    return request(to, options, redirects + 1, rangeFrom);
  }
  if (status === 206 && rangeFrom !== null && !new RegExp(`^bytes ${rangeFrom}-`).test(String(response.headers['content-range'] ?? ''))) {
    response.resume();
    throw downloadError('ERR_DOWNLOAD_TRUNCATED', url.href, `the server resumed at the wrong place (${String(response.headers['content-range'])})`);
  }
  if (status !== 200 && !(status === 206 && rangeFrom !== null)) {
    response.resume();
    const via = proxy && (status === 502 || status === 503 || status === 504 || status === 407) ? ` from the proxy ${proxy.href}` : '';
    throw downloadError('ERR_DOWNLOAD_HTTP', url.href, `the server answered HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}${via}`);
  }
  return response;
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

/** The proxy for a URL from HTTP_PROXY/HTTPS_PROXY (either case), unless NO_PROXY matches. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): URL | null {
  const raw = url.protocol === 'https:' ? env.HTTPS_PROXY ?? env.https_proxy : env.HTTP_PROXY ?? env.http_proxy;
  if (!raw) return null;
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const rule of noProxy) {
    if (rule === '*') return null;
    const [ruleHost, rulePort] = rule.split(':') as [string, string | undefined];
    if (rulePort && rulePort !== port) continue;
    const bare = ruleHost.replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return null;
  }
  try {
    return new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    return null;
  }
}

export interface FetchBytesOptions {
  env?: NodeJS.ProcessEnv;
  /** Give up when no byte arrives for this long. Default 30 s. */
  idleTimeoutMs?: number;
  /** Give up when the whole transfer takes longer than this (a server that drips bytes). Default 10 min. */
  totalTimeoutMs?: number;
  /** Refuse a body larger than this, declared or streamed (a server that never stops). */
  maxBytes: number;
  /** Called with each redirect's target before it is followed; throws to refuse it. */
  checkRedirect?: (to: URL) => void;
}

/**
 * A whole small resource (a model.json, a shard) into memory, through the same proxy-aware
 * client as downloads, never more than `maxBytes` of it. Fails with WeightsDownloadError
 * (offline, HTTP status, cut short, too large or too slow).
 */
export async function fetchBytes(url: string, options: FetchBytesOptions): Promise<Uint8Array> {
  const { maxBytes, totalTimeoutMs = 600_000, ...rest } = options;
  const response = await request(new URL(url), { urls: [url], dest: '', manualHint: '', ...rest }, 0);
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw downloadError('ERR_DOWNLOAD_HASH', url, `the server declares ${declared} bytes, more than the ${maxBytes} this file can need`);
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    const fail = (error: WeightsDownloadError): void => { clearTimeout(deadline); response.destroy(); reject(error); };
    const deadline = setTimeout(() => fail(downloadError('ERR_DOWNLOAD_TRUNCATED', url, `the transfer took over ${totalTimeoutMs / 1000} s (${bytes} bytes so far)`)), totalTimeoutMs);
    response.setTimeout(options.idleTimeoutMs ?? 30_000, () => fail(downloadError('ERR_DOWNLOAD_TRUNCATED', url, `no data after ${bytes} bytes`)));
    response.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) fail(downloadError('ERR_DOWNLOAD_HASH', url, `the server sent more than the ${maxBytes} bytes this file can need`));
      else chunks.push(chunk);
    });
    response.on('error', (e) => fail(downloadError('ERR_DOWNLOAD_TRUNCATED', url, `the connection failed after ${bytes} bytes (${e.message})`)));
    response.on('end', () => { clearTimeout(deadline); resolve(); });
  });
  if (Number.isFinite(declared) && declared > 0 && bytes !== declared) {
    throw downloadError('ERR_DOWNLOAD_TRUNCATED', url, `received ${bytes} of ${declared} bytes`);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
