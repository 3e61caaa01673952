import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';

/**
 * The served shell's access rules, after Jupyter's: a random token (256 bits) given once in
 * the printed address and exchanged for an HttpOnly, SameSite=Strict cookie; a Host-header
 * allow-list against DNS rebinding; the page's own origin required on the WebSocket and on every
 * state-changing request (CSRF). Pure functions of the request's headers, so that the HTTP
 * server (access-gate.ts, events-socket.ts) asks and the tests check them one by one.
 */
export interface AccessRules {
  readonly token: string;
  /** The cookie that carries the token (named after the port: cookies do not tell ports apart). */
  readonly cookieName: string;
  /** Host header values served, e.g. '127.0.0.1:8765', 'localhost:8765'. */
  hostAllowed(host: string | undefined): boolean;
  /** The exact origin of an allowed Host: `http://<host>`; anything else (or none) is foreign. */
  originAllowed(origin: string | undefined, host: string | undefined): boolean;
  /** Constant-time comparison with the token. */
  tokenMatches(candidate: string | null | undefined): boolean;
  /** Whether the Cookie header carries the token. */
  cookieMatches(cookieHeader: string | undefined): boolean;
  /** Set-Cookie value that stores the token in the browser. */
  setCookie(): string;
}

export const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

export const isLoopback = (host: string): boolean => LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

/** 256 random bits, URL-safe (Jupyter uses 192). */
export const newToken = (): string => randomBytes(32).toString('base64url');

/** The Host-header form of a host name: IPv6 literals in brackets. */
const hostForm = (host: string): string => (isIP(host) === 6 ? `[${host}]` : host);

/** A Host header split into name and port ('[::1]:80' → '::1', '80'). */
function splitHost(host: string): { name: string; port: string } | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(host);
  if (!match) return null;
  return { name: match[1]!.replace(/^\[|\]$/g, '').toLowerCase(), port: match[2]! };
}

export interface AccessRulesOptions {
  /** The address listened on (--host). */
  host: string;
  port: number;
  token?: string;
}

export function createAccessRules({ host, port, token = newToken() }: AccessRulesOptions): AccessRules {
  const names = new Set<string>([host.toLowerCase()]);
  // The loopback names always mean this machine; DNS rebinding needs a name we do not list.
  for (const name of LOOPBACK_HOSTS) names.add(name);
  const everywhere = host === '0.0.0.0' || host === '::';
  if (everywhere) names.add(hostname().toLowerCase());
  const expected = Buffer.from(token);
  const cookieName = `xception-tagger-${port}`;

  const hostAllowed = (value: string | undefined): boolean => {
    const split = value ? splitHost(value) : null;
    if (!split || split.port !== String(port)) return false;
    // Bound to every interface, an IP literal is this machine by one of its addresses: a
    // rebinding attack always arrives with a DNS name, never with an address.
    return names.has(split.name) || (everywhere && isIP(split.name) !== 0);
  };
  const tokenMatches = (candidate: string | null | undefined): boolean => {
    if (typeof candidate !== 'string') return false;
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  return {
    token,
    cookieName,
    hostAllowed,
    originAllowed: (origin, value) => !!origin && hostAllowed(value) && origin === `http://${value}`,
    tokenMatches,
    cookieMatches(header) {
      if (!header) return false;
      for (const part of header.split(';')) {
        const eq = part.indexOf('=');
        if (eq > 0 && part.slice(0, eq).trim() === cookieName && tokenMatches(part.slice(eq + 1).trim())) return true;
      }
      return false;
    },
    setCookie: () => `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`,
  };
}

/** The address to print: loopback as 127.0.0.1, anything else as given. */
export function addressFor(host: string, port: number, token: string): string {
  const shown = host === '0.0.0.0' || host === '::' ? hostname() : host;
  return `http://${hostForm(shown)}:${port}/?token=${token}`;
}

/** The warning printed when --host listens beyond loopback; null on loopback. */
export function exposureWarning(host: string): string | null {
  if (isLoopback(host)) return null;
  return `warning: listening on ${host}, beyond this machine: anyone who can reach this address and has the token can read the photos' tags and thumbnails and write sidecars; traffic is plain HTTP (use an SSH tunnel or a TLS proxy across networks).`;
}
