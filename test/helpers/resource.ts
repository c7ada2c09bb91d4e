/**
 * Helpers for the resource-server toolkit suites: tokens from a live Tollgate, hand-made JWTs
 * signed with its current key, a fetch that counts calls, and errors as plain objects.
 */
import { SignJWT, type JWTPayload } from 'jose';
import { expect } from 'vitest';
import { BearerError } from '../../src/resource/index.js';
import type { CreatedApp } from '../../src/services/apps.js';
import { basic, postForm, type TestServer } from './server.js';

export async function ccToken(s: TestServer, app: CreatedApp, fields: Record<string, string> = {}): Promise<string> {
  const r = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials', ...fields }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return String(r.json['access_token']);
}

export async function revoke(s: TestServer, app: CreatedApp, token: string): Promise<void> {
  const r = await postForm(`${s.url}/oauth/revoke`, { token }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
  expect(r.status).toBe(200);
}

/** A JWT signed with Tollgate's current signing key, with RFC 9068 defaults overridable. */
export async function craftJwt(
  s: TestServer,
  claims: JWTPayload,
  header: { typ?: string; kid?: string } = {},
): Promise<string> {
  const key = await s.ctx.keys.signingKey();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: 'tgc_crafted', scope: 'documents:read', jti: `jti-${Math.random()}`, sub: 'user-1', iss: s.issuer, iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: header.kid ?? key.kid, typ: header.typ ?? 'at+jwt' })
    .sign(key.privateKey);
}

/** `fetch` that counts calls per URL path. */
export function countingFetch(): { fetch: typeof globalThis.fetch; calls: string[]; count(pathEnd: string): number } {
  const calls: string[] = [];
  return {
    calls,
    fetch: (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      calls.push(new URL(url).pathname);
      return globalThis.fetch(input, init);
    },
    count: (pathEnd) => calls.filter((c) => c.endsWith(pathEnd)).length,
  };
}

export interface Refusal {
  readonly type: string;
  readonly status: number;
  readonly error: string;
  readonly description: string;
  readonly www: string;
}

/** The BearerError a promise rejects with, as a plain object; fails the test if it resolves. */
export async function refusal(p: Promise<unknown>): Promise<Refusal> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BearerError) {
      return { type: err.name, status: err.status, error: err.error, description: err.description, www: err.wwwAuthenticate };
    }
    throw err;
  }
  throw new Error('expected a refusal, the token was accepted');
}

export function invalidToken(description: string, realm = 'documents'): Refusal {
  return {
    type: 'InvalidTokenError',
    status: 401,
    error: 'invalid_token',
    description,
    www: `Bearer realm="${realm}", error="invalid_token", error_description="${description}"`,
  };
}

export const GENERIC = 'The access token is invalid, expired or revoked';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
