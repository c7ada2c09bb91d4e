/**
 * Typed OAuth errors (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7591 §3.2.2).
 *
 * `error` and `status` are fields. `description` is sent to the client; `detail` is private and
 * only ever logged. One HTTP error handler turns these into RFC-shaped bodies.
 */

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'account_selection_required'
  // RFC 8628 §3.5 (device authorization grant)
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token';

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status: number = 400,
    /** Private detail for the log; never sent to the client. */
    readonly detail?: string,
    /** The full `WWW-Authenticate` challenge, when the resource toolkit wrote it (RFC 6750, RFC 9728). */
    readonly challenge?: string,
  ) {
    super(`${error}: ${description}`);
    this.name = 'OAuthError';
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

export const invalidRequest = (d: string, detail?: string): OAuthError => new OAuthError('invalid_request', d, 400, detail);
/** RFC 6749 §5.2: 401 when the client tried to authenticate (the HTTP layer adds WWW-Authenticate). */
export const invalidClient = (d = 'Client authentication failed', detail?: string): OAuthError =>
  new OAuthError('invalid_client', d, 401, detail);
export const invalidGrant = (d: string, detail?: string): OAuthError => new OAuthError('invalid_grant', d, 400, detail);
export const unauthorizedClient = (d: string): OAuthError => new OAuthError('unauthorized_client', d, 400);
export const unsupportedGrantType = (d: string): OAuthError => new OAuthError('unsupported_grant_type', d, 400);
export const invalidScope = (d: string): OAuthError => new OAuthError('invalid_scope', d, 400);
export const accessDenied = (d: string): OAuthError => new OAuthError('access_denied', d, 403);
export const unsupportedResponseType = (d: string): OAuthError => new OAuthError('unsupported_response_type', d, 400);
export const invalidTarget = (d: string): OAuthError => new OAuthError('invalid_target', d, 400);
export const serverError = (detail: string): OAuthError =>
  new OAuthError('server_error', 'The server encountered an unexpected condition', 500, detail);
export const temporarilyUnavailable = (detail: string): OAuthError =>
  new OAuthError('temporarily_unavailable', 'The service is temporarily unavailable, try again later', 503, detail);
/** RFC 6750 §3.1 */
export const invalidToken = (d = 'The access token is invalid, expired or revoked'): OAuthError =>
  new OAuthError('invalid_token', d, 401);
export const insufficientScope = (d: string): OAuthError => new OAuthError('insufficient_scope', d, 403);
/** RFC 7591 §3.2.2 */
export const invalidRedirectUri = (d: string): OAuthError => new OAuthError('invalid_redirect_uri', d, 400);
export const invalidClientMetadata = (d: string): OAuthError => new OAuthError('invalid_client_metadata', d, 400);

/**
 * An authorization-request error that must NOT be redirected (Z9, RFC 6749 §4.1.2.1): the client
 * or the redirect URI could not be trusted, so it is shown to the person on a page.
 */
export class AuthorizePageError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
  ) {
    super(`${error}: ${description}`);
    this.name = 'AuthorizePageError';
  }
}
