/**
 * Typed errors of the resource-server toolkit, each mapping to one RFC 6750 §3 response: a status,
 * an `error` code, a `description` safe to send, and the `WWW-Authenticate` challenge.
 */

export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

/**
 * Quoted-string content for a challenge parameter (RFC 9110 §11.2): quotes and backslashes
 * dropped, and anything outside visible ASCII and spaces too (a header value must stay Latin-1
 * safe, whatever a description says).
 */
function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '').replace(/[^\x20-\x7e]/g, '')}"`;
}

/** `Bearer k="v", …`; the bare scheme when there are no parameters. */
function challenge(params: ReadonlyArray<readonly [string, string]>): string {
  return params.length === 0 ? 'Bearer' : `Bearer ${params.map(([k, v]) => `${k}=${quote(v)}`).join(', ')}`;
}

export interface BearerErrorOptions {
  /** The `realm` of the challenge (RFC 6750 §3); omitted when undefined. */
  readonly realm?: string | undefined;
  /** Private detail for logs; never sent to the client. */
  readonly detail?: string | undefined;
}

/** Base class: every error the toolkit throws on purpose is a `BearerError`. */
export abstract class BearerError extends Error {
  abstract readonly status: number;
  abstract readonly error: BearerErrorCode;
  readonly realm: string | undefined;
  readonly detail: string | undefined;
  /** Challenge parameters the verifier adds: `resource_metadata` (RFC 9728 §5.1), `scope`. */
  private readonly extra: Array<[string, string]> = [];

  constructor(
    readonly description: string,
    opts: BearerErrorOptions = {},
  ) {
    super(description);
    this.realm = opts.realm;
    this.detail = opts.detail;
  }

  /** Extra challenge parameters after `error` and `error_description` (e.g. `scope`). */
  protected challengeParams(): Array<[string, string]> {
    return [];
  }

  /**
   * Adds challenge parameters (a name the challenge already has is kept as it is): what the
   * verifier knows about the resource, e.g. where its metadata is and which scopes it needs.
   */
  withChallenge(params: ReadonlyArray<readonly [string, string]>): this {
    for (const [k, v] of params) if (!this.extra.some(([name]) => name === k)) this.extra.push([k, v]);
    return this;
  }

  /** The parameters after the error code: the subclass's own (`scope`), then the added ones. */
  protected trailingParams(): Array<[string, string]> {
    const own = this.challengeParams();
    return [...own, ...this.extra.filter(([k]) => !own.some(([name]) => name === k))];
  }

  /** The `WWW-Authenticate` header value for this error (RFC 6750 §3). */
  get wwwAuthenticate(): string {
    const params: Array<[string, string]> = [];
    if (this.realm !== undefined) params.push(['realm', this.realm]);
    params.push(['error', this.error], ['error_description', this.description], ...this.trailingParams());
    return challenge(params);
  }

  /** The JSON body: `{ error, error_description }`. */
  toJSON(): { error: BearerErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/**
 * 400 `invalid_request`: a malformed `Authorization` header, a token in the query string. With
 * `missingToken`, the request carried no credentials at all: 401 and the bare challenge, without
 * an error code (RFC 6750 §3.1).
 */
export class InvalidRequestError extends BearerError {
  readonly error = 'invalid_request' as const;
  readonly status: 400 | 401;
  readonly missingToken: boolean;

  constructor(description: string, opts: BearerErrorOptions & { readonly missingToken?: boolean } = {}) {
    super(description, opts);
    this.name = 'InvalidRequestError';
    this.missingToken = opts.missingToken === true;
    this.status = this.missingToken ? 401 : 400;
  }

  override get wwwAuthenticate(): string {
    if (!this.missingToken) return super.wwwAuthenticate;
    // RFC 6750 §3.1: no error code when the request carried no credentials; RFC 9728 §5.1: where
    // the resource's metadata is still says where to get a token.
    return challenge([...(this.realm === undefined ? [] : [['realm', this.realm] as [string, string]]), ...this.trailingParams()]);
  }
}

/** 401 `invalid_token`: unknown, expired, not yet valid, revoked, wrong issuer or audience. */
export class InvalidTokenError extends BearerError {
  readonly error = 'invalid_token' as const;
  readonly status = 401 as const;

  constructor(description = 'The access token is invalid, expired or revoked', opts: BearerErrorOptions = {}) {
    super(description, opts);
    this.name = 'InvalidTokenError';
  }
}

/** 403 `insufficient_scope`: a valid token without the scopes the endpoint needs. */
export class InsufficientScopeError extends BearerError {
  readonly error = 'insufficient_scope' as const;
  readonly status = 403 as const;

  constructor(
    description: string,
    /** The scopes the endpoint needs, sent as the challenge's `scope` parameter. */
    readonly requiredScopes: readonly string[],
    opts: BearerErrorOptions = {},
  ) {
    super(description, opts);
    this.name = 'InsufficientScopeError';
  }

  protected override challengeParams(): Array<[string, string]> {
    return this.requiredScopes.length > 0 ? [['scope', this.requiredScopes.join(' ')]] : [];
  }
}

/**
 * 503 `temporarily_unavailable`: the token could not be checked (the authorization server, its
 * metadata, JWKS or introspection endpoint unreachable or misbehaving). Never a pass. The
 * adapters send no `WWW-Authenticate` header with it: the client did nothing wrong.
 */
export class ServiceUnavailableError extends BearerError {
  readonly error = 'temporarily_unavailable' as const;
  readonly status = 503 as const;

  constructor(detail: string, opts: Omit<BearerErrorOptions, 'detail'> = {}) {
    super('The access token could not be checked, try again later', { ...opts, detail });
    this.name = 'ServiceUnavailableError';
  }
}

/** A ready-to-send response for any error `verify` throws; unexpected errors become a 500. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly error: string; readonly error_description: string };
}

/** Response headers that are lists: the toolkit adds its names to those the application set. */
const LIST_HEADERS = ['access-control-expose-headers', 'vary'];

/**
 * `headers` to set on a response that may already carry some (an Express app's CORS middleware
 * exposing `Mcp-Session-Id`, say): list headers are merged, names compared case-insensitively,
 * rather than replaced.
 */
export function mergedHeaders(headers: Readonly<Record<string, string>>, existing: (name: string) => unknown): Record<string, string> {
  const out = { ...headers };
  for (const name of LIST_HEADERS) {
    const mine = headers[name];
    const theirs = existing(name);
    if (mine === undefined || theirs === undefined || theirs === null || theirs === '') continue;
    const have = (Array.isArray(theirs) ? theirs.join(',') : String(theirs)).split(',').map((s) => s.trim()).filter((s) => s !== '');
    const add = mine.split(',').map((s) => s.trim()).filter((n) => n !== '' && !have.some((h) => h.toLowerCase() === n.toLowerCase()));
    out[name] = [...have, ...add].join(', ');
  }
  return out;
}

export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof BearerError) {
    const headers: Record<string, string> = { 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' };
    if (!(err instanceof ServiceUnavailableError)) {
      headers['www-authenticate'] = err.wwwAuthenticate;
      // A script (a browser-based MCP client) may read the challenge of a cross-origin API it
      // is allowed to call; whether it is allowed stays the API's own CORS policy.
      headers['access-control-expose-headers'] = 'WWW-Authenticate';
    }
    else headers['retry-after'] = '5';
    return { status: err.status, headers, body: err.toJSON() };
  }
  return {
    status: 500,
    headers: { 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' },
    body: { error: 'server_error', error_description: 'The server encountered an unexpected condition' },
  };
}
