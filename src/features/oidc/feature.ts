/**
 * OpenID Connect (issue #12): "Sign in with <platform>" on top of the authorization code flow.
 * - the `openid` scope (and `offline_access`, OIDC Core §11), which any application may ask for
 *   on a person's behalf;
 * - ID tokens (./id-token.ts) from the code flow and at each refresh that keeps `openid` (with the
 *   original `auth_time`), and from the implicit `id_token` / `id_token token` response types for
 *   applications allowed implicit;
 * - the UserInfo endpoint (./userinfo.ts) and the discovery document
 *   `/.well-known/openid-configuration` (OIDC Discovery §4), appended to the issuer and, when the
 *   issuer has a path, also path-inserted at the host's root.
 * What the ID token says about the sign-in (nonce, auth_time, amr, acr, sid) is recorded when the
 * person approves, keyed by the grant's token family (storage `oidcGrants`).
 */
import type { OAuthContext } from '../../oauth/context.js';
import type { Approval, Feature, ResponseType } from '../../oauth/feature.js';
import type { AuthorizeRequest } from '../../oauth/authorize.js';
import type { OidcGrantRow } from '../../storage/types.js';
import { invalidRequest } from '../../oauth/errors.js';
import { serverMetadata } from '../../oauth/metadata.js';
import { implicitAccessToken } from '../implicit/feature.js';
import { DEVICE_GRANT } from '../device-code/device.js';
import { CLAIMS_SUPPORTED, scopedClaims } from './claims.js';
import { ID_TOKEN_ALGS } from '../../config.js';
import { idTokenSubject, signIdToken } from './id-token.js';
import { handleUserInfo } from './userinfo.js';
import { queueBackchannelLogout } from './backchannel.js';
import { parseClaimsRequest } from './claims-request.js';

const DISPLAY_VALUES = ['page', 'popup', 'touch', 'wap'];

function grantOf(req: AuthorizeRequest, approval: Approval, now: number): OidcGrantRow {
  return {
    familyId: approval.familyId,
    clientId: req.client.clientId,
    userId: approval.userId,
    nonce: req.nonce,
    authTime: approval.signIn.authTime,
    amr: approval.signIn.amr,
    acr: approval.signIn.acr,
    sid: approval.signIn.sid,
    idTokenClaims: parseClaimsRequest(req.params.get('claims')?.[0])?.idToken ?? null,
    createdAt: now,
  };
}

/** The claims the `claims` parameter asked for in the ID token, as far as the scopes release them. */
async function requestedClaims(ctx: OAuthContext, grant: OidcGrantRow, scopes: readonly string[]): Promise<Record<string, unknown> | undefined> {
  const names = grant.idTokenClaims ?? [];
  if (names.length === 0) return undefined;
  const released = await scopedClaims(ctx, grant.userId, scopes);
  return Object.fromEntries(Object.entries(released).filter(([name]) => names.includes(name)));
}

/** OIDC Core §3.2: `id_token` alone, or with an access token (`id_token token`), in the fragment. */
function implicitIdToken(type: 'id_token' | 'id_token token'): ResponseType {
  return {
    type,
    grantType: 'implicit',
    mode: 'fragment',
    pkce: false,
    async respond(ctx, req, approval) {
      const grant = grantOf(req, approval, ctx.now());
      if (type === 'id_token') {
        // §5.4: with no access token to ask UserInfo, the claims travel in the ID token.
        const claims = await scopedClaims(ctx, approval.userId, approval.scopes);
        return { id_token: await signIdToken(ctx, { client: req.client, grant, withNonce: true, claims }) };
      }
      const token = await implicitAccessToken(ctx, req, approval);
      const claims = await requestedClaims(ctx, grant, approval.scopes);
      return { ...token, id_token: await signIdToken(ctx, { client: req.client, grant, withNonce: true, accessToken: token.access_token, ...(claims ? { claims } : {}) }) };
    },
  };
}

async function discovery(ctx: OAuthContext) {
  const scopes = (await ctx.storage.scopes.list()).map((s) => s.name);
  return { status: 200, body: serverMetadata(ctx, scopes), headers: { 'Cache-Control': 'public, max-age=300' } };
}

export const openIdConnectFeature: Feature = {
  name: 'openid-connect',
  personScopes: [
    { name: 'openid', description: 'Sign you in with your account (confirms who you are to the application)' },
    { name: 'offline_access', description: 'Keep access while you are not using the application' },
  ],
  keyAlgs: ['RS256'],
  responseTypes: [implicitIdToken('id_token'), implicitIdToken('id_token token')],
  authorizeParameters: ['id_token_hint', 'ui_locales', 'claims_locales', 'display', 'acr_values', 'claims'],
  endpoints: [
    { method: 'GET', path: '/.well-known/openid-configuration', cors: true, wellKnown: true, handle: (ctx) => discovery(ctx) },
    { method: 'GET', path: '/oauth/userinfo', metadataName: 'userinfo_endpoint', cors: true, bearer: true, handle: (ctx, req) => handleUserInfo(ctx, req, 'GET') },
    { method: 'POST', path: '/oauth/userinfo', cors: true, bearer: true, handle: (ctx, req) => handleUserInfo(ctx, req, 'POST') },
  ],
  async validateAuthorize(ctx, req) {
    const display = req.params.get('display')?.[0];
    if (display !== undefined && display !== '' && !DISPLAY_VALUES.includes(display)) {
      throw invalidRequest(`display must be one of ${DISPLAY_VALUES.join(', ')}`);
    }
    if (req.responseType.type.startsWith('id_token')) {
      // OIDC Core §3.2.2.1: the implicit flow requires `openid` and a nonce.
      if (!req.scopes.includes('openid')) throw invalidRequest(`response_type=${req.responseType.type} requires the openid scope`);
      if (req.nonce === null) throw invalidRequest(`response_type=${req.responseType.type} requires a nonce`);
    }
    // Core §5.5: checked whole here, so a malformed `claims` never reaches the consent page.
    const claims = parseClaimsRequest(req.params.get('claims')?.[0]);
    if (claims !== null && !req.scopes.includes('openid')) throw invalidRequest('claims needs the openid scope');
    const hint = req.params.get('id_token_hint')?.[0];
    if (hint !== undefined && hint !== '') {
      // Core §3.1.2.1: an ID token this server issued to this application (an expired one is fine).
      const subject = await idTokenSubject(ctx, hint, req.client.clientId);
      if (subject === null) throw invalidRequest('id_token_hint is not an ID token this server issued to this application');
      if (claims?.subject != null && claims.subject !== subject) throw invalidRequest('claims sub.value and id_token_hint name different people');
      return { subjectHint: subject };
    }
    // §5.5.1: a requested sub value is only answered for that person, like a hint.
    if (claims?.subject != null) return { subjectHint: claims.subject };
    return undefined;
  },
  async authorized(ctx, { request, approval }) {
    // The code flow: what the ID token will say, recorded with the grant for the token endpoint.
    if (request.responseType.type === 'code' && approval.scopes.includes('openid')) {
      await ctx.storage.oidcGrants.create(grantOf(request, approval, ctx.now()));
    }
    return {};
  },
  async tokenResponse(ctx, { client, grantType, response, facts }) {
    // The code flow, its refreshes, and a device authorization an `openid` request approved (RFC 8628).
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token' && grantType !== DEVICE_GRANT) return {};
    if (facts === null || facts.userId === null || facts.familyId === null || !facts.scopes.includes('openid')) return {};
    const grant = await ctx.storage.oidcGrants.byFamily(facts.familyId);
    if (grant === null || grant.clientId !== client.clientId || grant.userId !== facts.userId) return {};
    // §12.2: a refreshed ID token keeps the original auth_time; the nonce only comes back with the code.
    const claims = await requestedClaims(ctx, grant, facts.scopes);
    return { id_token: await signIdToken(ctx, { client, grant, withNonce: grantType === 'authorization_code', accessToken: response.access_token, ...(claims ? { claims } : {}) }) };
  },
  sessionsEnded: queueBackchannelLogout,
  metadata: (ctx) => ({
    // RP-Initiated Logout 1.0 (the pages are src/http/routes/end-session.ts).
    end_session_endpoint: `${ctx.config.issuer}/oauth/logout`,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...ID_TOKEN_ALGS],
    claims_supported: CLAIMS_SUPPORTED,
    claims_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    display_values_supported: DISPLAY_VALUES,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    ui_locales_supported: ['en', 'fr', 'de', 'es', 'it'],
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    frontchannel_logout_supported: false,
  }),
};
