/**
 * The refresh grace window (issue #6, as Hydra and django-oauth-toolkit offer for applications
 * open in several tabs): the response of a rotation is kept on the rotated refresh token, sealed
 * (crypto.ts `sealJson`) under a key derived (HKDF-SHA256) from that refresh token itself. Only a
 * client presenting the old refresh token can open it, and the database alone never yields a
 * usable token.
 */
import { deriveKey, openJson, sealJson } from '../crypto.js';
import type { TokenResponse } from './issue.js';

const VERSION = 'v1';

function keyFor(refreshToken: string): Buffer {
  return deriveKey(refreshToken, VERSION, 'tollgate-refresh-grace');
}

export function sealResponse(refreshToken: string, response: TokenResponse): string {
  return `${VERSION}.${sealJson(keyFor(refreshToken), response)}`;
}

export function openResponse(refreshToken: string, sealed: string): TokenResponse | null {
  if (!sealed.startsWith(`${VERSION}.`)) return null;
  const value = openJson(keyFor(refreshToken), sealed.slice(VERSION.length + 1));
  return typeof value === 'object' && value !== null ? (value as TokenResponse) : null;
}
