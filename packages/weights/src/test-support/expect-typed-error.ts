import { expect } from 'vitest';

/** Awaits a rejection and checks its class, code and message; returns the error for more checks. */
export async function expectTypedError<E extends Error & { code: string }>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
  code: string,
  pattern: RegExp,
): Promise<E> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(type);
  expect((error as E).code).toBe(code);
  expect((error as E).message).toMatch(pattern);
  return error as E;
}
