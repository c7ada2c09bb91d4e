/**
 * Token exchange grant (RFC 8693), for applications an administrator allowed it, under that
 * application's policy (`ClientRow.tokenExchange`; docs/token-exchange.md):
 * - the subject token (and the actor token) must be addressed to the exchanging application
 *   (./tokens.ts), so a token meant for someone else is never turned into a new one;
 * - the new token is only for an audience the policy names, never carries more scope than the
 *   subject token, and never outlives it (also once refreshed);
 * - with an actor token it carries `act` (§4.1), nested when the actor (or the subject) was
 *   itself acting for someone; without one (impersonation) only where the policy allows it;
 * - a refresh token only when the policy allows it and `requested_token_type` asks for one;
 * - it joins the subject token's family, so revoking the subject's grant revokes it too.
 * Public clients are refused (client authentication is required).
 */
import { GRANT } from '../../oauth/grant-types.js';
import type { Grant } from '../../oauth/feature.js';
import { defaultAudience } from '../../oauth/context.js';
import { normalizeResource } from '../../oauth/audience.js';
import { invalidGrant, invalidRequest, invalidScope, invalidTarget, unauthorizedClient } from '../../oauth/errors.js';
import { single } from '../../oauth/params.js';
import { APPLICATION_ONLY_SCOPES, parseScope } from '../../oauth/scope.js';
import { clientIssuesRefresh, issueTokens } from '../../oauth/tokens/issue.js';
import type { ActClaim } from '../../storage/types.js';
import { ACCESS_TOKEN_TYPE, REFRESH_TOKEN_TYPE, assertTokenType, readToken, type ReadToken } from './tokens.js';

export const TOKEN_EXCHANGE = GRANT.tokenExchange;

/** How deep a delegation chain (`act` within `act`) may get. */
const MAX_ACT_DEPTH = 5;

function depth(act: ActClaim | undefined): number {
  return act === undefined ? 0 : 1 + depth(act.act);
}

export const tokenExchangeGrant: Grant = {
  type: TOKEN_EXCHANGE,
  parameters: ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'resource', 'audience', 'scope', 'requested_token_type'],
  publicClients: false,
  async handle(ctx, { client, params, ip }) {
    const policy = client.tokenExchange;
    if (policy === null) throw unauthorizedClient('An administrator has not set a token-exchange policy for this application');

    // §2.1: the request's shape, before any token is looked at.
    const subjectToken = single(params, 'subject_token');
    const subjectType = single(params, 'subject_token_type');
    if (subjectToken === undefined) throw invalidRequest('Missing required parameter "subject_token"');
    if (subjectType === undefined) throw invalidRequest('Missing required parameter "subject_token_type"');
    const actorToken = single(params, 'actor_token');
    const actorType = single(params, 'actor_token_type');
    if (actorToken !== undefined && actorType === undefined) throw invalidRequest('"actor_token_type" is required with "actor_token"');
    if (actorToken === undefined && actorType !== undefined) throw invalidRequest('"actor_token_type" must not be sent without "actor_token"');
    assertTokenType('subject', subjectType);
    if (actorType !== undefined) assertTokenType('actor', actorType);
    const requested = single(params, 'requested_token_type');
    if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE && requested !== REFRESH_TOKEN_TYPE) {
      throw invalidRequest(`Unsupported requested_token_type: use ${ACCESS_TOKEN_TYPE} or ${REFRESH_TOKEN_TYPE}`);
    }
    const withRefresh = requested === REFRESH_TOKEN_TYPE;
    if (withRefresh && !policy.refreshTokens) throw invalidRequest("This application's token-exchange policy does not allow refresh tokens");
    if (withRefresh && !clientIssuesRefresh(client)) throw invalidRequest('This application does not receive refresh tokens (it needs the refresh_token grant with refresh tokens on)');
    if (actorToken === undefined && !policy.impersonation) {
      throw invalidRequest("\"actor_token\" is required: this application's token-exchange policy does not allow impersonation");
    }
    const resource = single(params, 'resource');
    const audience = single(params, 'audience');
    if (resource !== undefined && audience !== undefined && resource !== audience) {
      throw invalidTarget('"resource" and "audience" name different targets; a token has one audience');
    }

    // The tokens (invalid_grant for anything not active or not addressed to this application).
    const subject = await readToken(ctx, client, 'subject', subjectToken, subjectType);
    const actor = actorToken === undefined ? null : await readToken(ctx, client, 'actor', actorToken, actorType as string);

    // The target: what was named, else the policy's only audience.
    let target = resource ?? audience;
    if (target === undefined) {
      if (policy.audiences.length !== 1) {
        throw invalidTarget(policy.audiences.length === 0 ? "This application's token-exchange policy allows no audience" : 'Name the target with "audience" or "resource"');
      }
      target = policy.audiences[0] as string;
    }
    // Compared as resource indicators are (scheme and host case, default port; nothing more),
    // and the token names the audience as the policy has it.
    const wanted = normalizeResource(target);
    const allowed = policy.audiences.find((a) => a === target || (wanted !== null && normalizeResource(a) === wanted));
    if (allowed === undefined) throw invalidTarget('This application may not obtain tokens for this audience');
    target = allowed;
    if (target !== defaultAudience(ctx.config) && !(await ctx.storage.resourceServers.byIdentifier(target))) {
      throw invalidTarget('Unknown audience');
    }

    const scope = await exchangedScope(subject, parseScope(single(params, 'scope')));

    // §4.1: the actor is the current actor; a chain it (or the subject) already carried is nested.
    const prior = actor?.act ?? subject.act ?? undefined;
    const act: ActClaim | null = actor === null ? subject.act : { sub: actor.sub, ...(prior ? { act: prior } : {}) };
    if (act !== null && depth(act) > MAX_ACT_DEPTH) throw invalidGrant('The delegation chain is too long');

    const response = await issueTokens(ctx, {
      client,
      userId: subject.userId,
      scope,
      audience: target,
      familyId: subject.familyId,
      withRefresh,
      grantType: TOKEN_EXCHANGE,
      exchange: { act, notAfter: subject.expiresAt, subject: subject.appId },
    });
    await ctx.audit.record('token.exchanged', {
      clientId: client.clientId,
      actorUserId: actor?.userId ?? null,
      ip,
      details: {
        subject: subject.sub,
        subjectType: subject.type,
        subjectClientId: subject.clientId,
        actor: actor?.sub ?? null,
        actorType: actor?.type ?? null,
        impersonation: actor === null,
        audience: target,
        scope: response.scope,
        refresh: withRefresh,
      },
    });
    return response;

    /** The requested scope, which must be within the subject's, the application's and the target's; else all of that. */
    async function exchangedScope(from: ReadToken, asked: readonly string[]): Promise<string[]> {
      const owners = new Map<string, string | null>();
      for (const s of new Set([...asked, ...from.scopes])) owners.set(s, (await ctx.storage.scopes.byName(s))?.resourceServer ?? null);
      const forTarget = (s: string): boolean => {
        const owner = owners.get(s) ?? null;
        return owner === null || owner === target;
      };
      const usable = (s: string): boolean => client.scopes.includes(s) && !APPLICATION_ONLY_SCOPES.includes(s);
      if (asked.length > 0) {
        const wider = asked.filter((s) => !from.scopes.includes(s));
        if (wider.length > 0) throw invalidScope(`The requested scope exceeds the subject token's scope: ${wider.join(' ')}`);
        const notAllowed = asked.filter((s) => !usable(s));
        if (notAllowed.length > 0) throw invalidScope(`Scope not allowed for this client: ${notAllowed.join(' ')}`);
        if (!asked.every(forTarget)) throw invalidScope('A requested scope belongs to another resource server');
        return [...asked];
      }
      const granted = from.scopes.filter((s) => usable(s) && forTarget(s));
      if (granted.length === 0) throw invalidScope("None of the subject token's scopes is allowed for this application and audience");
      return granted;
    }
  },
};
