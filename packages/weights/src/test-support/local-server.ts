import type http from 'node:http';
import { startStaticServer, type StaticServer } from '@xception/core/testing';

export { deadPort } from '@xception/core/testing';
export type LocalServer = StaticServer;

/**
 * @xception/core/testing's startStaticServer with only a handler. Kept for apps/desktop's
 * download test, which imports it by path; new tests use startStaticServer.
 */
export function startLocalServer(handler: http.RequestListener): Promise<LocalServer> {
  return startStaticServer({ handler });
}
