import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpRefusal } from './http-refusal.js';
import { send } from './security-headers.js';
import type { AccessRules } from './served-security.js';

/**
 * The access rules (served-security.ts) for one request: allowed Host, then the token cookie,
 * then, for anything but GET and HEAD, the page's own Origin. Null when it may go on.
 */
export function accessRefusal(rules: AccessRules, request: IncomingMessage): HttpRefusal | null {
  const { host, cookie, origin } = request.headers;
  if (!rules.hostAllowed(host)) return new HttpRefusal(403, `Host '${host ?? ''}' is not served here; open the address printed by pnpm tagger serve.`);
  if (!rules.cookieMatches(cookie)) return new HttpRefusal(403, 'Not signed in: open the address printed by pnpm tagger serve (it carries ?token=…).');
  if (request.method !== 'GET' && request.method !== 'HEAD' && !rules.originAllowed(origin, host)) {
    return new HttpRefusal(403, `Origin '${origin ?? '(none)'}' may not change anything here.`);
  }
  return null;
}

/**
 * Every request's first step. An allowed Host with `?token=` is the token exchange: the right
 * token becomes the cookie and the address loses it (history, screen shares, Referer) by a 303
 * to the same path; true then, the request is answered. Otherwise the access rules apply
 * (throws HttpRefusal) and false means go on.
 */
export function passAccessGate(rules: AccessRules, request: IncomingMessage, url: URL, response: ServerResponse): boolean {
  if (!rules.hostAllowed(request.headers.host)) throw accessRefusal(rules, request)!;
  const given = url.searchParams.get('token');
  if (given !== null) {
    if (!rules.tokenMatches(given)) throw new HttpRefusal(403, 'Wrong token: open the address printed by pnpm tagger serve.');
    url.searchParams.delete('token');
    send(response, 303, '', { location: `${url.pathname}${url.search}`, 'set-cookie': rules.setCookie() });
    return true;
  }
  const refused = accessRefusal(rules, request);
  if (refused) throw refused;
  return false;
}
