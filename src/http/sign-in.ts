/**
 * Sending a person to sign in and bringing them back, the same way in every login mode
 * (src/login/): an authorization request waits on the server (src/http/interactions.ts) and the
 * person comes back to `/oauth/authorize/resume`; a page of the portal comes back to itself.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from './context.js';
import type { LoginHints } from '../login/types.js';
import { resumePath, startInteraction } from './interactions.js';

const NO_HINTS: LoginHints = { prompt: [], maxAge: null, loginHint: null };

/** Sends the person to sign in, then back to `returnTo` (a same-site path under the issuer). */
export async function signInThenReturn(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply, returnTo: string): Promise<FastifyReply> {
  if (ctx.login.mode === 'builtin') {
    return reply.code(303).header('Cache-Control', 'no-store').header('Location', `${ctx.base}/login?return_to=${encodeURIComponent(returnTo)}`).send();
  }
  if (ctx.login.mode === 'embedded') {
    // The host's page sends the person straight back to `returnTo`.
    return ctx.login.begin(request, reply, { interaction: '', resumePath: returnTo, hints: NO_HINTS });
  }
  const id = await startInteraction(ctx, request, reply, { clientId: null, request: '', returnTo, sessionSubject: null });
  return ctx.login.begin(request, reply, { interaction: id, resumePath: resumePath(ctx, id), hints: NO_HINTS });
}

/** Keeps an authorization request waiting and sends the person to sign in for it. */
export async function signInForRequest(
  ctx: HttpContext,
  request: FastifyRequest,
  reply: FastifyReply,
  waiting: { readonly clientId: string; readonly request: string; readonly sessionSubject: string | null; readonly hints: LoginHints },
): Promise<FastifyReply> {
  const id = await startInteraction(ctx, request, reply, { clientId: waiting.clientId, request: waiting.request, returnTo: null, sessionSubject: waiting.sessionSubject });
  return ctx.login.begin(request, reply, { interaction: id, resumePath: resumePath(ctx, id), hints: waiting.hints });
}
