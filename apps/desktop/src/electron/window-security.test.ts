import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, lockDown, secureWebPreferences, type SessionLike, type WebContentsLike } from './window-security.js';

describe('window security', () => {
  it('isolates and sandboxes the page with no Node', () => {
    expect(secureWebPreferences('/app/preload.cjs')).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
  });

  it("the page's CSP meta tag is the same policy the app protocol sends", () => {
    const html = readFileSync(new URL('../renderer/index.html', import.meta.url), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|https?:|\*/);
  });

  it('denies new windows, navigation away, webviews, permissions and every remote request', () => {
    const listeners = new Map<string, (event: { preventDefault(): void }, url?: string) => void>();
    let openHandler: ((d: { url: string }) => { action: string }) | null = null;
    let requestFilter: ((d: { url: string }, cb: (r: { cancel: boolean }) => void) => void) | null = null;
    let permission: ((c: unknown, p: string, cb: (g: boolean) => void) => void) | null = null;
    const contents: WebContentsLike = {
      setWindowOpenHandler: (h) => void (openHandler = h),
      on: ((event: string, listener: (event: { preventDefault(): void }, url?: string) => void) => listeners.set(event, listener)) as WebContentsLike['on'],
    };
    const session: SessionLike = {
      setPermissionRequestHandler: (h) => void (permission = h),
      setPermissionCheckHandler: () => undefined,
      webRequest: { onBeforeRequest: (l) => void (requestFilter = l) },
    };
    lockDown(contents, session);
    expect(openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    const prevented = (event: string, url: string): boolean => {
      let stopped = false;
      listeners.get(event)!({ preventDefault: () => (stopped = true) }, url);
      return stopped;
    };
    expect(prevented('will-navigate', 'https://example.com/')).toBe(true);
    expect(prevented('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(prevented('will-navigate', 'app://renderer/index.html')).toBe(false);
    expect(prevented('will-attach-webview', '')).toBe(true);
    const cancelled = (url: string): boolean => {
      let result = false;
      requestFilter!({ url }, (r) => (result = r.cancel));
      return result;
    };
    expect(cancelled('https://cdn.example/x.js')).toBe(true);
    expect(cancelled('http://127.0.0.1:8080/')).toBe(true);
    expect(cancelled('app://renderer/app.js')).toBe(false);
    expect(cancelled('xthumb://photo/%2Fhome%2Fa.jpg')).toBe(false);
    let granted = true;
    permission!(null, 'media', (g) => (granted = g));
    expect(granted).toBe(false);
  });
});
