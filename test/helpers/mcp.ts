/**
 * Helpers for the MCP end-to-end test (test/resource/mcp-server-example.test.ts): an in-memory implementation of
 * the MCP SDK's `OAuthClientProvider` whose "browser" is scripted by the test, a recording `fetch`
 * for what the SDK sends, and a throwaway certificate authority for an https server on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

export interface MemoryProviderOptions {
  readonly redirectUrl: string;
  readonly clientMetadata: OAuthClientMetadata;
  /** A Client ID Metadata Document URL: the SDK uses it as the client_id when the server supports it. */
  readonly clientMetadataUrl?: string;
  /** What the person's browser does with the authorization URL (sign in, consent). */
  readonly authorize: (url: URL, provider: MemoryOAuthProvider) => Promise<void>;
}

/**
 * Keeps everything the SDK asks it to keep (client information, tokens, the PKCE verifier, the
 * state) in memory, and records the authorization URLs it was sent to.
 */
export class MemoryOAuthProvider implements OAuthClientProvider {
  clientInfo: OAuthClientInformationMixed | undefined;
  savedTokens: OAuthTokens | undefined;
  readonly authorizationUrls: URL[] = [];
  readonly states: string[] = [];
  readonly clientMetadataUrl: string | undefined;
  private verifier: string | undefined;

  constructor(private readonly opts: MemoryProviderOptions) {
    this.clientMetadataUrl = opts.clientMetadataUrl;
  }

  get redirectUrl(): string {
    return this.opts.redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return this.opts.clientMetadata;
  }

  state(): string {
    const state = randomBytes(16).toString('base64url');
    this.states.push(state);
    return state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.clientInfo;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.clientInfo = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.savedTokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.savedTokens = tokens;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    this.authorizationUrls.push(url);
    await this.opts.authorize(url, this);
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (this.verifier === undefined) throw new Error('no code verifier saved');
    return this.verifier;
  }
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** The request body, when it was a string or URLSearchParams (registration, token requests). */
  readonly body: string | null;
}

/** A `fetch` that records every request the SDK makes through it, with the answer's status. */
export function recordingFetch(log: RecordedRequest[]): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const body = typeof init?.body === 'string' ? init.body : init?.body instanceof URLSearchParams ? init.body.toString() : null;
    log.push({ method, url, status: res.status, body });
    return res;
  };
}

export interface LoopbackCertificate {
  /** The PEM file of the certificate authority, for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  /** The server's key and certificate (PEM), for `https.createServer`. */
  readonly key: string;
  readonly cert: string;
}

/**
 * A certificate authority made for this run and a server certificate it signed for the address
 * 127.0.0.1 (valid one day), written in `dir`. Uses the `openssl` command.
 */
export function loopbackCertificate(dir: string): LoopbackCertificate {
  const file = (name: string): string => join(dir, name);
  const openssl = (args: readonly string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=Tollgate MCP test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('server.pem'), '-days', '1', '-extfile', file('server.ext')]);
  return { caFile: file('ca.pem'), key: readFileSync(file('server.key'), 'utf8'), cert: readFileSync(file('server.pem'), 'utf8') };
}
