/**
 * Delegated login over the admin API (issue #11 §3, as Ory Hydra's login challenge): the platform
 * that signs people in for Tollgate reads a waiting sign-in, then accepts it (saying who signed in)
 * or rejects it (the client then receives that error with its `state`).
 *
 *   GET  /admin/api/login-requests/<challenge>           what is asked, for whom
 *   POST /admin/api/login-requests/<challenge>/accept    {"subject": "...", …} → {"redirect_to": "..."}
 *   POST /admin/api/login-requests/<challenge>/reject    {"error": "...", "error_description": "..."} → {"redirect_to": "..."}
 *
 * These take a Bearer token of an application holding the built-in `login` scope, acting as
 * itself (client credentials: `login` is never granted for a person, src/oauth/scope.ts), given by
 * an administrator. A challenge is answered once; the `redirect_to` works once, only in the
 * browser that started the sign-in (src/http/interactions.ts), and only with its verifier.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from '../context.js';
import { defaultAudience } from '../../oauth/context.js';
import { insufficientScope, invalidRequest, type OAuthErrorCode } from '../../oauth/errors.js';
import { randomToken, sha256 } from '../../oauth/crypto.js';
import { paramsFromSearch } from '../../oauth/params.js';
import type { InteractionRow } from '../../storage/types.js';
import { requireBearer } from '../plugins/bearer.js';
import { useRouteSchemas } from '../plugins/schema-reader.js';
import * as S from '../schemas/admin.js';
import { operation } from '../schemas/operation.js';
import { findInteraction } from '../interactions.js';
import type { LoginAnswer } from '../../login/delegated.js';

export const LOGIN_SCOPE = 'login';


const MAX_CLAIMS_BYTES = 8 * 1024;

function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ error: 'not_found', error_description: 'Unknown or expired login request' });
}

function conflict(reply: FastifyReply): FastifyReply {
  return reply.code(409).send({ error: 'invalid_request', error_description: 'This login request was already answered or used' });
}

/** `claims`: the person's further claims, none of those Tollgate sets itself. */
function claimsField(v: Record<string, unknown> | undefined): Record<string, unknown> {
  if (v === undefined) return {};
  if (Buffer.byteLength(JSON.stringify(v)) > MAX_CLAIMS_BYTES) throw invalidRequest(`"claims" is too large (${MAX_CLAIMS_BYTES} bytes max)`);
  for (const key of Object.keys(v)) {
    if (['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'azp', 'sid'].includes(key)) throw invalidRequest(`"claims" must not set "${key}"`);
  }
  return v;
}

async function authenticatePlatform(ctx: HttpContext, request: FastifyRequest): Promise<void> {
  const token = await requireBearer(ctx, request, { audience: defaultAudience(ctx.config), scopes: [LOGIN_SCOPE] });
  if (token.userId !== null) throw insufficientScope('Login requests are answered by an application acting as itself (client credentials)');
}

function describe(ctx: HttpContext, row: InteractionRow, clientName: string | null, redirectHost: string | null): Record<string, unknown> {
  const params = paramsFromSearch(new URLSearchParams(row.request));
  const one = (name: string): string | null => params.get(name)?.[0] ?? null;
  const maxAge = one('max_age');
  return {
    challenge_expires_at: Math.floor(row.expiresAt / 1000),
    client: row.clientId === null ? null : { client_id: row.clientId, name: clientName, redirect_uri_host: redirectHost },
    requested_scope: (one('scope') ?? '').split(' ').filter((s) => s.length > 0),
    prompt: (one('prompt') ?? '').split(' ').filter((s) => s.length > 0),
    max_age: maxAge !== null && /^\d+$/.test(maxAge) ? Number(maxAge) : null,
    login_hint: one('login_hint'),
    ui_locales: one('ui_locales'),
    acr_values: one('acr_values'),
    // Who was signed in with Tollgate in this browser when the sign-in was asked for (a
    // prompt=login or an expired max_age); a remembered sign-in that covers a request never
    // reaches the platform, so `skip` is always false here.
    session_subject: row.sessionSubject,
    skip: false,
    answered: row.decidedAt !== null,
    issuer: ctx.config.issuer,
  };
}

export function loginRequestRoutes(app: FastifyInstance, ctx: HttpContext): void {
  void app.register(
    async (context) => {
      const api = useRouteSchemas(context);
      api.addHook('onRequest', async (request, reply) => {
        if (ctx.login.mode !== 'delegated') {
          return reply.code(404).header('Cache-Control', 'no-store').send({ error: 'not_found', error_description: 'Delegated login is not enabled on this server (TOLLGATE_LOGIN_URL)' });
        }
        return authenticatePlatform(ctx, request);
      });
      api.addHook('onSend', async (_request, reply, payload) => {
        reply.header('Cache-Control', 'no-store');
        return payload;
      });
      const show = operation({ summary: 'Delegated login: what a waiting sign-in asks (TOLLGATE_LOGIN_URL)', scope: 'login', params: S.ChallengeParams, query: S.NoQuery, ok: [200, 'The login request', S.LoginRequest], notFound: true });
      api.get('/:challenge', show, async (request, reply) => {
        const row = await findInteraction(ctx, request.params.challenge);
        if (!row || row.expiresAt <= ctx.now() || row.consumedAt !== null) return notFound(reply);
        const client = row.clientId === null ? null : await ctx.storage.clients.byId(row.clientId);
        const redirect = paramsFromSearch(new URLSearchParams(row.request)).get('redirect_uri')?.[0] ?? client?.redirectUris[0] ?? null;
        let host: string | null = null;
        try {
          host = redirect === null ? null : new URL(redirect).host || null;
        } catch {
          host = null;
        }
        return describe(ctx, row, client?.name ?? null, host);
      });

      const accept = operation({ summary: 'Delegated login: say who signed in; answers where to send the browser', scope: 'login', params: S.ChallengeParams, body: S.LoginAccept, ok: [200, 'Where to send the browser', S.RedirectTo], notFound: true });
      api.post('/:challenge/accept', accept, async (request, reply) => {
        const body = request.body;
        const subject = body.subject;
        if (subject.length > 255 || /[\x00-\x1f\x7f]/.test(subject)) throw invalidRequest('"subject" must be 1 to 255 printable characters');
        const email = body.email;
        if (email !== undefined && (email.length > 320 || !/^[^\s@]+@[^\s@]+$/.test(email))) throw invalidRequest('"email" is not an email address');
        const name = body.name;
        if (name !== undefined && name.length > 200) throw invalidRequest('"name" is too long (200 max)');
        const verified = body.email_verified;
        const now = ctx.now();
        const authTime = body.auth_time;
        if (authTime !== undefined && authTime * 1000 > now + 60_000) throw invalidRequest('"auth_time" is in the future');
        const amr = body.amr ?? null;
        if (amr !== null && (amr.length > 10 || amr.some((m) => m.length > 32))) throw invalidRequest('"amr" must be at most 10 short strings');
        const acr = body.acr ?? null;
        if (acr !== null && acr.length > 200) throw invalidRequest('"acr" is too long (200 max)');
        const rememberFor = body.remember_for;
        if (rememberFor !== undefined && (rememberFor < 60 || rememberFor > ctx.config.sessionTtl)) {
          throw invalidRequest(`"remember_for" must be between 60 and ${ctx.config.sessionTtl} seconds (TOLLGATE_SESSION_TTL)`);
        }
        const profile = {
          ...claimsField(body.claims),
          ...(email !== undefined ? { email } : {}),
          ...(verified !== undefined ? { email_verified: verified } : {}),
          ...(name !== undefined ? { name } : {}),
        };
        const row = await findInteraction(ctx, request.params.challenge);
        if (!row || row.expiresAt <= now || row.consumedAt !== null) return notFound(reply);
        const verifier = randomToken('', 32);
        const answer: LoginAnswer = {
          type: 'accept',
          subject,
          profile,
          authTime: authTime !== undefined ? authTime * 1000 : now,
          amr,
          acr,
          remember: body.remember === true,
          rememberFor: rememberFor ?? null,
          verifierHash: sha256(verifier),
        };
        if (!(await ctx.storage.interactions.decide(row.idHash, JSON.stringify(answer), now))) return conflict(reply);
        await ctx.audit.record('login.accepted', { clientId: row.clientId, actorUserId: subject, ip: request.ip, details: { via: 'delegated' } });
        return { redirect_to: redirectTo(ctx, request.params.challenge, verifier) };
      });

      const reject = operation({ summary: 'Delegated login: refuse; the application receives the error with its state', scope: 'login', params: S.ChallengeParams, body: S.LoginReject, ok: [200, 'Where to send the browser', S.RedirectTo], notFound: true });
      api.post('/:challenge/reject', reject, async (request, reply) => {
        // Errors a platform may send back to the client (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6).
        const error: OAuthErrorCode = request.body.error ?? 'access_denied';
        const description = request.body.error_description ?? 'The sign-in was refused';
        if (description.length > 300 || /[^\x20-\x21\x23-\x5b\x5d-\x7e]/.test(description)) {
          // RFC 6749 §4.1.2.1: error_description is limited to these characters.
          throw invalidRequest('"error_description" must be at most 300 printable ASCII characters, without " or \\');
        }
        const now = ctx.now();
        const row = await findInteraction(ctx, request.params.challenge);
        if (!row || row.expiresAt <= now || row.consumedAt !== null) return notFound(reply);
        const verifier = randomToken('', 32);
        const answer: LoginAnswer = { type: 'reject', error, description, verifierHash: sha256(verifier) };
        if (!(await ctx.storage.interactions.decide(row.idHash, JSON.stringify(answer), now))) return conflict(reply);
        await ctx.audit.record('login.rejected', { clientId: row.clientId, ip: request.ip, details: { error } });
        return { redirect_to: redirectTo(ctx, request.params.challenge, verifier) };
      });
    },
    { prefix: '/admin/api/login-requests' },
  );
}

function redirectTo(ctx: HttpContext, challenge: string, verifier: string): string {
  const origin = new URL(ctx.config.issuer).origin;
  return `${origin}${ctx.base}/oauth/authorize/resume?interaction=${encodeURIComponent(challenge)}&verifier=${encodeURIComponent(verifier)}`;
}
