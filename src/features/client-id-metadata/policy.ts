/**
 * Which `client_id` values are Client ID Metadata Document URLs, and which of them Tollgate will
 * fetch (draft-ietf-oauth-client-id-metadata-document §3, §8; docs/client-id-metadata.md).
 *
 * The URL is taken exactly as sent: it is the client's identifier, compared as a string with the
 * document's own `client_id` (no normalisation), and refused — never repaired — when it has
 * userinfo, a fragment, dot segments or no path.
 */
import type { Config } from '../../config.js';
import { isLocalHostname } from '../../config.js';

/** Client ids longer than this are not URLs Tollgate fetches (the column holds more; a page shows it). */
export const MAX_CLIENT_ID_URL = 512;

/** Cheap test on the hot path: could this client_id be a metadata document's URL at all? */
export function looksLikeMetadataUrl(clientId: string): boolean {
  return clientId.startsWith('https://') || clientId.startsWith('http://');
}

/** Why a client_id URL is refused, or null when it may be fetched. */
export function clientIdUrlProblem(clientId: string, config: Config): string | null {
  if (clientId.length > MAX_CLIENT_ID_URL) return `a client_id URL is at most ${MAX_CLIENT_ID_URL} characters`;
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'the client_id is not a valid URL';
  }
  const loopback = isLocalHostname(url.hostname) || url.hostname === '[::1]';
  if (url.protocol === 'http:') {
    if (!(config.cimdInsecureLoopback && loopback)) return 'a client_id URL must use https';
  } else if (url.protocol !== 'https:') {
    return 'a client_id URL must use https';
  }
  if (loopback && !config.cimdInsecureLoopback) return 'a client_id URL must not name this machine';
  if (url.username !== '' || url.password !== '' || /^[a-z]+:\/\/[^/]*@/i.test(clientId)) return 'a client_id URL must not contain a user name or password';
  if (clientId.includes('#')) return 'a client_id URL must not contain a fragment';
  // The raw path, before the URL parser resolves dot segments away.
  const rawPath = clientId.replace(/^[a-z]+:\/\/[^/?#]*/i, '').replace(/[?#].*$/, '');
  if (rawPath === '' || rawPath === '/') return 'a client_id URL must have a path (https://host/path)';
  if (rawPath.split('/').some((seg) => seg === '.' || seg === '..' || /^(%2e|\.){1,2}$/i.test(seg))) {
    return 'a client_id URL must not contain dot segments';
  }
  if (!/^[\x21-\x7e]+$/.test(clientId)) return 'a client_id URL must be plain ASCII without spaces';
  return null;
}

/** The host of a client_id URL as the block- and allow-lists compare it (lower case, no port). */
export function hostOf(clientId: string): string {
  return new URL(clientId).hostname.toLowerCase();
}

/** Whether TOLLGATE_CIMD_ALLOWED_HOSTS admits this host (an empty list admits every host). */
export function hostAllowed(host: string, config: Config): boolean {
  if (config.cimdAllowedHosts.length === 0) return true;
  return config.cimdAllowedHosts.some((h) => (h.startsWith('*.') ? host.endsWith(h.slice(1)) && host.length > h.length - 1 : host === h.replace(/:\d+$/, '')));
}

/**
 * The block-list patterns that would block this client_id: the URL itself, its host, and `*.` each
 * parent domain (`*.example.com` blocks `a.example.com` and `b.a.example.com`).
 */
export function blockPatternsFor(clientId: string): string[] {
  const host = hostOf(clientId);
  const out = [clientId, host];
  const labels = host.split('.');
  for (let i = 1; i < labels.length; i++) out.push(`*.${labels.slice(i).join('.')}`);
  return out;
}

/** Checks an administrator's block pattern; returns it as stored (hosts lower case), or throws. */
export function normaliseBlockPattern(raw: string): string {
  const p = raw.trim();
  if (p.startsWith('https://') || p.startsWith('http://')) {
    if (p.length > MAX_CLIENT_ID_URL) throw new Error(`a client_id URL is at most ${MAX_CLIENT_ID_URL} characters`);
    try {
      new URL(p);
    } catch {
      throw new Error('not a valid URL');
    }
    return p;
  }
  const host = p.toLowerCase();
  if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
    throw new Error('a block is a host (agents.example), *.domain for its subdomains, or a client_id URL');
  }
  return host;
}

/**
 * What the consent and device pages say of a metadata-document client: the host its document is
 * published at, and whether every redirect URI is on localhost (the draft's impersonation risk:
 * anything on the person's computer could claim that client_id). Null host for other applications.
 */
export function metadataFacts(client: { readonly clientId: string; readonly redirectUris: readonly string[]; readonly metadataDocument: unknown }): {
  readonly metadataHost: string | null;
  readonly onlyLocalRedirects: boolean;
} {
  if (client.metadataDocument === null) return { metadataHost: null, onlyLocalRedirects: false };
  const local = client.redirectUris.every((u) => {
    try {
      const h = new URL(u).hostname;
      return isLocalHostname(h) || h === '[::1]' || h.endsWith('.localhost');
    } catch {
      return false;
    }
  });
  return { metadataHost: new URL(client.clientId).host.toLowerCase(), onlyLocalRedirects: client.redirectUris.length > 0 && local };
}
