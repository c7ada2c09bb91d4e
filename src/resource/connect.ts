/**
 * Express / Connect adapter: a middleware per set of required scopes.
 *
 *   app.get('/documents', bearer(verifier, { scopes: ['documents:read'] }), (req, res) => {
 *     res.json({ for: req.accessToken?.subject });
 *   });
 *
 * The verified token is `req.accessToken` (and `res.locals.accessToken` where `res.locals`
 * exists). Refusals are answered directly (RFC 6750 status, JSON body, `WWW-Authenticate`);
 * anything unexpected goes to `next(err)`. Typed structurally on Node's `http` types, so neither
 * `express` nor `@types/express` is needed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BearerError, errorResponse, mergedHeaders } from './errors.js';
import { RESOURCE_METADATA_PREFLIGHT, resourceMetadataResponse } from './metadata.js';
import type { ScopeMode } from './scopes.js';
import type { VerifiedToken, Verifier } from './verifier.js';

export interface BearerMiddlewareOptions {
  /** Scopes the routes behind this middleware need (default none: any valid token). */
  readonly scopes?: readonly string[];
  /** `all` (default) or `any` of `scopes`. */
  readonly mode?: ScopeMode;
}

/** What the middleware reads from the request and adds to it. */
export type BearerRequest = IncomingMessage & { originalUrl?: string; accessToken?: VerifiedToken };
export type BearerResponse = ServerResponse & { locals?: Record<string, unknown> };
export type BearerMiddleware = (req: BearerRequest, res: BearerResponse, next: (err?: unknown) => void) => void;

export function bearer(verifier: Verifier, opts: BearerMiddlewareOptions = {}): BearerMiddleware {
  const scopes = [...(opts.scopes ?? [])];
  const mode = opts.mode ?? 'all';
  return (req, res, next) => {
    verifier.verify(req.headers.authorization, { scopes, mode, url: req.originalUrl ?? req.url }).then(
      (token) => {
        req.accessToken = token;
        if (res.locals !== undefined) res.locals['accessToken'] = token;
        next();
      },
      (err: unknown) => {
        if (!(err instanceof BearerError)) {
          next(err);
          return;
        }
        const r = errorResponse(err);
        res.statusCode = r.status;
        for (const [name, value] of Object.entries(mergedHeaders(r.headers, (n) => res.getHeader(n)))) res.setHeader(name, value);
        res.end(JSON.stringify(r.body));
      },
    );
  };
}

/**
 * Serves the verifier's protected resource metadata (RFC 9728) at its well-known path; any other
 * request goes on. Mount it before the protected routes: `app.use(resourceMetadata(verifier))`.
 */
export function resourceMetadata(verifier: Verifier): BearerMiddleware {
  const metadata = verifier.resourceMetadata;
  if (metadata === null) throw new TypeError('resourceMetadata: this verifier publishes no metadata (createVerifier({ resourceMetadata }))');
  const path = metadata.path.split('?')[0] ?? metadata.path;
  return (req, res, next) => {
    const url = req.originalUrl ?? req.url ?? '';
    const q = url.indexOf('?');
    if ((req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS') || (q < 0 ? url : url.slice(0, q)) !== path) {
      next();
      return;
    }
    if (req.method === 'OPTIONS') {
      res.statusCode = 204;
      for (const [name, value] of Object.entries(RESOURCE_METADATA_PREFLIGHT)) res.setHeader(name, value);
      res.end();
      return;
    }
    const r = resourceMetadataResponse(metadata);
    res.statusCode = r.status;
    for (const [name, value] of Object.entries(mergedHeaders(r.headers, (n) => res.getHeader(n)))) res.setHeader(name, value);
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify(r.body));
  };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified access token, set by the `tollgate/resource` middleware. */
      accessToken?: VerifiedToken;
    }
  }
}
