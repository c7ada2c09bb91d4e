/**
 * The refresh grace window (issue #6, as Hydra and django-oauth-toolkit offer for applications
 * open in several tabs): the response of a rotation is kept on the rotated refresh token, sealed
 * with AES-256-GCM under a key derived (HKDF-SHA256) from that refresh token itself. Only a client
 * presenting the old refresh token can open it, and the database alone never yields a usable token.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { TokenResponse } from './issue.js';

const VERSION = 'v1';

function keyFor(refreshToken: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(refreshToken, 'utf8'), 'tollgate-refresh-grace', VERSION, 32));
}

export function sealResponse(refreshToken: string, response: TokenResponse): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(refreshToken), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(response), 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

export function openResponse(refreshToken: string, sealed: string): TokenResponse | null {
  const [version, iv, body, tag] = sealed.split('.');
  if (version !== VERSION || !iv || !body || !tag) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(refreshToken), Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    return JSON.parse(plain) as TokenResponse;
  } catch {
    return null;
  }
}
