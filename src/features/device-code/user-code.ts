/**
 * User codes (RFC 8628 §6.1): what a person reads on a device and types on another screen. Eight
 * consonants (no vowels, so no words; no digits, so no 0/O or 1/I mix-ups), shown
 * in two groups of four (`WDJB-MJHT`); typed in any case, with or without the dash or spaces.
 * 20^8 ≈ 2.6 × 10^10 codes: with guesses limited per address (TOLLGATE_DEVICE_RATE_LIMIT) and
 * codes living minutes, guessing a live one is out of reach (§5.1).
 */
import { randomInt } from 'node:crypto';
import { sha256 } from '../../oauth/crypto.js';

export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const LENGTH = 8;

/** A new user code, grouped for reading: `XXXX-XXXX`. */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * What a person typed, as the canonical code (upper case, no separators), or null when it cannot
 * be a user code at all (wrong length or letters outside the alphabet). Bounded before any work.
 */
export function normalizeUserCode(input: string): string | null {
  if (input.length > 32) return null;
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== LENGTH) return null;
  for (const ch of code) if (!USER_CODE_ALPHABET.includes(ch)) return null;
  return code;
}

/** The grouped display form of a canonical code. */
export function displayUserCode(canonical: string): string {
  return `${canonical.slice(0, 4)}-${canonical.slice(4)}`;
}

/** How a user code is stored and looked up: hashed, like every other credential. */
export function userCodeHash(canonical: string): string {
  return sha256(`user-code:${canonical}`);
}
