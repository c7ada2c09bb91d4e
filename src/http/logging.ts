/**
 * Log hygiene (O5): request lines carry the path and the names of query parameters, never their
 * values (codes, states, tokens); headers that carry credentials are never logged.
 */
import type { FastifyRequest } from 'fastify';

export function safeUrl(url: string): string {
  const i = url.indexOf('?');
  if (i < 0) return url;
  const keys = [...new URLSearchParams(url.slice(i + 1)).keys()];
  return `${url.slice(0, i)}?${keys.map((k) => `${encodeURIComponent(k).slice(0, 40)}=…`).join('&')}`;
}

export const loggerOptions = (level: string) => ({
  level,
  redact: {
    paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.client_secret', '*.token', '*.refresh_token', '*.access_token', '*.code', '*.device_code', '*.user_code', '*.subject_token', '*.actor_token', '*.client_assertion', '*.assertion', '*.registration_access_token'],
    censor: '[redacted]',
  },
  serializers: {
    req(request: FastifyRequest) {
      return { method: request.method, url: safeUrl(request.url), ip: request.ip };
    },
  },
});
