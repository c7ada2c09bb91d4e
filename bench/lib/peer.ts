/**
 * The peer's browser part (bench/servers/peer.ts): one authorization request that goes through
 * the stand-in sign-in/consent step, leaving a session cookie and a remembered grant, and one code
 * flow with that cookie (used to check the set-up before the load runs).
 */
import { randomBytes } from 'node:crypto';
import { Jar, pkce, type TokenSet } from './tollgate.js';

export interface PeerCodeClient {
  readonly clientId: string;
  readonly basic: string;
  readonly redirectUri: string;
}

export function peerAuthorizePath(c: PeerCodeClient, challenge: string, scope: string, nonce?: string): string {
  return (
    `/auth?response_type=code&client_id=${encodeURIComponent(c.clientId)}&redirect_uri=${encodeURIComponent(c.redirectUri)}` +
    `&scope=${encodeURIComponent(scope)}&state=s${randomBytes(4).toString('hex')}&code_challenge=${challenge}&code_challenge_method=S256` +
    (nonce !== undefined ? `&nonce=${nonce}` : '')
  );
}

/** Follows the redirects of one authorization request on the peer's own origin until the client's redirect. */
async function follow(base: string, path: string, jar: Jar, redirectUri: string): Promise<string> {
  let url = base + path;
  for (let hop = 0; hop < 8; hop++) {
    const res = await fetch(url, { headers: { cookie: jar.header() }, redirect: 'manual' });
    jar.take(res);
    const body = await res.text();
    const loc = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !loc) throw new Error(`peer authorize: ${res.status} ${body.slice(0, 300)}`);
    const next = new URL(loc, url).toString();
    if (next.startsWith(redirectUri)) return next;
    url = next;
  }
  throw new Error('peer authorize: too many redirects');
}

/** Signs alice in and grants `scope` to the client once; returns the session cookie. */
export async function peerSignIn(base: string, c: PeerCodeClient, scope: string): Promise<string> {
  const jar = new Jar();
  const loc = await follow(base, peerAuthorizePath(c, pkce().challenge, scope, randomBytes(8).toString('hex')), jar, c.redirectUri);
  if (!new URL(loc).searchParams.get('code')) throw new Error(`peer sign-in: no code in ${loc}`);
  // Only the session (and its signature) is needed from here on; the interaction cookies are spent.
  return jar
    .header()
    .split('; ')
    .filter((c) => c.startsWith('_session=') || c.startsWith('_session.sig='))
    .join('; ');
}

/** One code flow with the signed-in cookie: must redirect straight to the client with a code. */
export async function peerCodeFlow(base: string, c: PeerCodeClient, cookie: string, scope: string, nonce?: string): Promise<TokenSet> {
  const { verifier, challenge } = pkce();
  const r1 = await fetch(base + peerAuthorizePath(c, challenge, scope, nonce), { headers: { cookie }, redirect: 'manual' });
  await r1.arrayBuffer();
  const loc = r1.headers.get('location');
  const code = loc && loc.startsWith(c.redirectUri) ? new URL(loc).searchParams.get('code') : null;
  if (!code) throw new Error(`peer authorize did not redirect with a code: ${r1.status} ${loc}`);
  const r2 = await fetch(`${base}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${c.basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: c.redirectUri, code_verifier: verifier }).toString(),
  });
  const body = (await r2.json()) as TokenSet;
  if (r2.status !== 200) throw new Error(`peer token: ${r2.status} ${JSON.stringify(body)}`);
  return body;
}
