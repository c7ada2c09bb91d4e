/**
 * The one error handler (docs/design.md habit 3): OAuthError → RFC 6749 §5.2 JSON (or RFC 6750
 * `WWW-Authenticate` for bearer errors); framework errors (bad JSON, unsupported media type,
 * body too large) → `invalid_request` with their status; anything else → `server_error`,
 * leaking nothing. Storage outages → 503 `temporarily_unavailable`.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError, serverError, temporarilyUnavailable } from '../../oauth/errors.js';
import { CSP } from './security-headers.js';

export interface ErrorHooks {
  onOAuthError(error: string): void;
}

function isStorageOutage(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const msg = typeof e.message === 'string' ? e.message : '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001', '08003', 'SQLITE_BUSY'].includes(code) ||
    /Connection terminated|timeout exceeded when trying to connect|database is locked|database connection is not open|Cannot use a pool after calling end|driver has already been destroyed|Query read timeout/i.test(msg)
  );
}

/** Maps any thrown value to the OAuthError that will be sent. */
export function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  const fe = err as Partial<FastifyError> & { statusCode?: number };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const status = fe.statusCode;
    const description =
      status === 413
        ? 'The request body is too large'
        : status === 415
          ? 'Unsupported Content-Type; use application/x-www-form-urlencoded or application/json'
          : fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || /JSON/.test(fe.message ?? '')
            ? 'The request body is not valid JSON'
            : fe.validation
              ? `Invalid request: ${fe.message ?? ''}`.slice(0, 300)
              : 'The request could not be understood';
    return new OAuthError('invalid_request', description, status);
  }
  if (isStorageOutage(err)) return temporarilyUnavailable(String((err as Error).message));
  return serverError(err instanceof Error ? err.message : String(err));
}

export function sendOAuthError(reply: FastifyReply, err: OAuthError): FastifyReply {
  if (err.error === 'invalid_client' && err.status === 401) {
    reply.header('WWW-Authenticate', 'Basic realm="tollgate", charset="UTF-8"');
  }
  if (
    (reply.request.routeOptions.config?.bearer === true && err.error === 'invalid_request') ||
    err.error === 'invalid_token' ||
    err.error === 'insufficient_scope'
  ) {
    // RFC 6750 §3: a request without credentials gets the challenge alone, without an error code.
    const challenge =
      err.challenge !== undefined
        ? err.challenge
        : err.status === 401 && err.error === 'invalid_request'
        ? 'Bearer realm="tollgate"'
        : `Bearer realm="tollgate", error="${err.error}", error_description="${err.description.replace(/["\\]/g, '')}"`;
    reply.header('WWW-Authenticate', challenge).header('Access-Control-Expose-Headers', 'WWW-Authenticate');
  }
  reply.header('Cache-Control', 'no-store');
  return reply.code(err.status).type('application/json; charset=utf-8').send(err.toJSON());
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes protected by a bearer token (RFC 6750 error shape). */
    bearer?: boolean;
    /** Routes for people: errors render as an HTML page. */
    page?: boolean;
    /** Routes that authenticate clients: failed authentications are limited (plugins/auth-failures.ts). */
    clientAuth?: boolean;
  }
}

/**
 * Renders an error page; given the exchange, in the language the browser asks for
 * (Accept-Language: src/http/views/i18n.ts), otherwise English.
 */
export type RenderPage = (title: string, message: string, code: string, exchange?: { readonly request: FastifyRequest; readonly reply: FastifyReply }) => string;

export function installErrorHandler(app: FastifyInstance, hooks: ErrorHooks, renderPage: RenderPage): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const oauth = toOAuthError(err);
    hooks.onOAuthError(oauth.error);
    if (oauth.status >= 500) {
      request.log.error({ err: { type: (err as Error)?.name, message: oauth.detail ?? (err as Error)?.message, stack: (err as Error)?.stack } }, 'request failed');
    } else if (oauth.detail) {
      request.log.info({ oauthError: oauth.error, detail: oauth.detail }, 'oauth error');
    }
    if (request.routeOptions.config?.page === true) {
      const title = oauth.status >= 500 ? 'Something went wrong' : 'The request could not be completed';
      return reply
        .code(oauth.status)
        .header('Cache-Control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(renderPage(title, oauth.description, oauth.error, { request, reply }));
    }
    return sendOAuthError(reply, oauth);
  });
}

/** Unknown paths: a page for a browser, RFC-shaped JSON otherwise. */
export function installNotFoundHandler(app: FastifyInstance, hooks: ErrorHooks, renderPage: RenderPage): void {
  app.setNotFoundHandler((request, reply) => {
    hooks.onOAuthError('not_found');
    const accept = request.headers.accept ?? '';
    if (request.method === 'GET' && accept.includes('text/html')) {
      return reply.code(404).type('text/html; charset=utf-8').send(renderPage('Not found', 'There is no page at this address.', 'not_found', { request, reply }));
    }
    return reply.code(404).send({ error: 'not_found', error_description: `No route for ${request.method} ${request.url.split('?')[0]}` });
  });
}

/** Paths of the routes for people (under `base`): their errors are pages, also when the request cannot be parsed. */
function pagePrefix(base: string): string {
  const escaped = base.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return String.raw`${escaped}\/(?:oauth\/authorize|login|logout|account|developers|admin(?!\/api(?:[/?\s]|$)))(?=[?/\s]|$)`;
}

/**
 * Errors Fastify's router raises before any route runs — a path that is not valid
 * percent-encoding (`/oauth/register/%zz`), a path parameter over `maxParamLength` — get the
 * RFC-shaped body too, not Fastify's default `{"error":"Bad Request","code":"FST_ERR_BAD_URL"}`.
 */
export function frameworkErrorHandler(renderPage: RenderPage, base = '') {
  const PAGE_URL = new RegExp(`^${pagePrefix(base)}`);
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
    const description =
      err.code === 'FST_ERR_BAD_URL'
        ? 'The request path is not validly percent-encoded'
        : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'A path segment is too long'
          : 'The request could not be understood';
    reply
      .code(status)
      .header('Cache-Control', 'no-store')
      .header('X-Content-Type-Options', 'nosniff')
      .header('X-Frame-Options', 'DENY')
      .header('Referrer-Policy', 'no-referrer')
      .header('Content-Security-Policy', CSP);
    if (['GET', 'HEAD', 'POST'].includes(request.raw.method ?? '') && PAGE_URL.test(request.raw.url ?? '')) {
      return reply.type('text/html; charset=utf-8').send(renderPage('The request could not be completed', description, 'invalid_request', { request, reply }));
    }
    return reply.type('application/json; charset=utf-8').send({ error: 'invalid_request', error_description: description });
  };
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (a malformed request line, a byte
 * outside the allowed set in the URL, headers over the size limit, a header timeout) get the same
 * RFC-shaped answer as every other error — `invalid_request` as JSON, or a page for the routes
 * for people — instead of Fastify's default `{"error":"Bad Request","message":...}` body.
 */
export function installClientErrorHandler(app: FastifyInstance, renderPage: RenderPage, base = ''): void {
  const PAGE_PATHS = new RegExp(`^(?:GET|POST|HEAD) ${pagePrefix(base)}`);
  const server = app.server;
  server.removeAllListeners('clientError');
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Socket) => {
    // A reset connection has nobody left to answer (Node's and Fastify's behaviour).
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, reason, description] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request took too long to arrive']
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large', 'The request line or headers are too large']
          : [400, 'Bad Request', 'The request is not valid HTTP'];
    app.log.debug({ code: err.code }, 'client error');
    const head = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.subarray(0, 64).toString('latin1') : '';
    const page = PAGE_PATHS.test(head);
    // A HEAD answer has no body (a client would read one as the start of a broken response).
    const body = head.startsWith('HEAD ')
      ? ''
      : page
        ? renderPage('The request could not be completed', description, 'invalid_request')
        : JSON.stringify({ error: 'invalid_request', error_description: description });
    const headers = [
      `HTTP/1.1 ${status} ${reason}`,
      `Content-Type: ${page ? 'text/html' : 'application/json'}; charset=utf-8`,
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Cache-Control: no-store',
      'X-Content-Type-Options: nosniff',
      'X-Frame-Options: DENY',
      'Referrer-Policy: no-referrer',
      `Content-Security-Policy: ${CSP}`,
      'Connection: close',
    ];
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
    // A client that never closes its side does not keep the socket.
    setTimeout(() => socket.destroy(), 5_000).unref();
  });
}
