/**
 * PKCE (RFC 7636). Challenge and verifier are checked against the RFC's ABNF:
 *   code-verifier = 43*128unreserved   (§4.1)
 *   code-challenge = 43*128unreserved  (§4.2)
 *   unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { invalidGrant, invalidRequest } from './errors.js';

const SYNTAX = /^[A-Za-z0-9\-._~]{43,128}$/;

export type ChallengeMethod = 'S256' | 'plain';

export function validateChallenge(
  challenge: string | undefined,
  method: string | undefined,
  opts: { readonly required: boolean; readonly allowPlain: boolean },
): { challenge: string; method: ChallengeMethod } | null {
  if (challenge === undefined) {
    if (method !== undefined) throw invalidRequest('code_challenge_method was sent without code_challenge');
    if (opts.required) throw invalidRequest('PKCE is required for this client: send code_challenge with code_challenge_method=S256');
    return null;
  }
  if (!SYNTAX.test(challenge)) throw invalidRequest('code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)');
  // RFC 7636 §4.3: "defaults to "plain" if not present in the request"
  const m = method ?? 'plain';
  if (m === 'S256') return { challenge, method: 'S256' };
  if (m === 'plain') {
    if (!opts.allowPlain) throw invalidRequest('code_challenge_method=plain is not allowed; use S256');
    return { challenge, method: 'plain' };
  }
  throw invalidRequest('code_challenge_method must be S256');
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** Token-endpoint check (RFC 7636 §4.6, RFC 9700 §2.1.1 downgrade protection). */
export function verifyPkce(
  stored: { readonly challenge: string | null; readonly method: string | null },
  verifier: string | undefined,
): void {
  if (stored.challenge === null) {
    // A verifier without a challenge is a downgrade attempt (RFC 9700 §4.8.2).
    if (verifier !== undefined) throw invalidGrant('code_verifier sent but no code_challenge was in the authorization request');
    return;
  }
  if (verifier === undefined) throw invalidGrant('code_verifier is required');
  if (!SYNTAX.test(verifier)) throw invalidGrant('code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)');
  const computed = stored.method === 'S256' ? s256(verifier) : verifier;
  const a = Buffer.from(computed);
  const b = Buffer.from(stored.challenge);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw invalidGrant('code_verifier does not match the code_challenge');
}
