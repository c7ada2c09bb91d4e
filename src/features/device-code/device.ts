/**
 * The device authorization grant's decisions (RFC 8628; issue #14), without HTTP: the device
 * authorization request (§3.1–3.2), the person's answer on the verification page (§3.3), and the
 * device's polls at the token endpoint (§3.4–3.5). The pages are src/http/routes/device.ts.
 */
import { GRANT } from '../../oauth/grant-types.js';
import type { ClientRow, DeviceCodeRow } from '../../storage/types.js';
import type { OAuthContext } from '../../oauth/context.js';
import type { SignIn } from '../../oauth/feature.js';
import type { Params } from '../../oauth/params.js';
import { authenticateClient } from '../../oauth/client-auth.js';
import { PREFIX, randomId, randomToken, sha256 } from '../../oauth/crypto.js';
import { OAuthError, invalidGrant, invalidRequest, unauthorizedClient } from '../../oauth/errors.js';
import { assertNoRepeats, single } from '../../oauth/params.js';
import { formatScope, parseScope, resolveScopes } from '../../oauth/scope.js';
import { resolveAudience } from '../../oauth/audience.js';
import { rememberConsent } from '../../oauth/authorize.js';
import { clientIssuesRefresh, prepareTokens, type TokenResponse } from '../../oauth/tokens/issue.js';
import { displayUserCode, newUserCode, normalizeUserCode, userCodeHash } from './user-code.js';

export const DEVICE_GRANT = GRANT.deviceCode;
/** The verification page, relative to the issuer (RFC 8628 §3.2 `verification_uri`). */
export const VERIFICATION_PATH = '/device';

/** RFC 8628 §3.2: the device authorization response. */
export interface DeviceAuthorizationResponse {
  readonly device_code: string;
  readonly user_code: string;
  readonly verification_uri: string;
  readonly verification_uri_complete: string;
  readonly expires_in: number;
  readonly interval: number;
}

/** Secrets that never travel in a URL (RFC 6749 §2.3.1). */
const QUERY_CREDENTIALS = ['client_secret', 'client_assertion'];

/** §3.1: a client asks for a device code and a user code. */
export async function handleDeviceAuthorization(
  ctx: OAuthContext,
  req: { readonly params: Params; readonly query: Params; readonly authorization: string | undefined },
): Promise<DeviceAuthorizationResponse> {
  if (QUERY_CREDENTIALS.some((name) => req.query.has(name))) throw invalidRequest('Credentials must not be sent in the query string');
  assertNoRepeats(req.params);
  const { client } = await authenticateClient(ctx, req.authorization, req.params, '/oauth/device_authorization');
  if (!client.grantTypes.includes(DEVICE_GRANT)) throw unauthorizedClient(`This application is not allowed the ${DEVICE_GRANT} grant`);
  const asked = parseScope(single(req.params, 'scope'));
  // As at the authorization endpoint: a person is asked, so person scopes (openid) may be asked for.
  const scopes = resolveScopes(asked, asked.length === 0 ? client.scopes : [...client.scopes, ...ctx.features.personScopes], { forPerson: true });
  const audience = await resolveAudience(ctx, single(req.params, 'resource'), scopes);
  const now = ctx.now();
  const deviceCode = randomToken(PREFIX.deviceCode);
  const interval = ctx.config.devicePollInterval;
  for (let attempt = 0; ; attempt++) {
    const userCode = newUserCode();
    try {
      await ctx.storage.deviceCodes.create({
        deviceCodeHash: sha256(deviceCode),
        userCodeHash: userCodeHash(normalizeUserCode(userCode) as string),
        clientId: client.clientId,
        scope: formatScope(scopes),
        audience,
        interval,
        createdAt: now,
        expiresAt: now + ctx.config.deviceCodeTtl * 1000,
      });
    } catch (err) {
      // A user code already in use (one chance in billions per live code): draw another.
      if (attempt < 3) continue;
      throw err;
    }
    const verification = `${ctx.config.issuer}${VERIFICATION_PATH}`;
    return {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verification,
      verification_uri_complete: `${verification}?user_code=${encodeURIComponent(userCode)}`,
      expires_in: ctx.config.deviceCodeTtl,
      interval,
    };
  }
}

/** A device request the person named on the verification page, or why it cannot go on. */
export type FoundDeviceRequest =
  | { readonly ok: true; readonly row: DeviceCodeRow; readonly client: ClientRow; readonly userCode: string }
  | { readonly ok: false; readonly reason: 'malformed' | 'unknown' | 'expired' | 'answered' };

/** Looks up what the person typed (or what `verification_uri_complete` carried). */
export async function findDeviceRequest(ctx: OAuthContext, typed: string): Promise<FoundDeviceRequest> {
  const canonical = normalizeUserCode(typed);
  if (canonical === null) return { ok: false, reason: 'malformed' };
  const row = await ctx.storage.deviceCodes.byUserCode(userCodeHash(canonical));
  if (row === null) return { ok: false, reason: 'unknown' };
  if (row.expiresAt <= ctx.now()) return { ok: false, reason: 'expired' };
  if (row.status !== 'pending') return { ok: false, reason: 'answered' };
  const client = await ctx.storage.clients.byId(row.clientId);
  if (client === null || !client.active || !client.grantTypes.includes(DEVICE_GRANT)) return { ok: false, reason: 'unknown' };
  return { ok: true, row, client, userCode: displayUserCode(canonical) };
}

/**
 * The person allowed (§3.3): the request is approved with the scopes they left ticked (never more
 * than the device asked for), their consent remembered (it lists the application under Connected
 * applications, where it can be revoked), and — for `openid` — their sign-in kept for the ID
 * token. False when the request was answered meanwhile (another tab) or expired.
 */
export async function approveDeviceRequest(
  ctx: OAuthContext,
  found: { readonly row: DeviceCodeRow; readonly client: ClientRow },
  signIn: SignIn,
  ticked: readonly string[],
  ip: string | null,
): Promise<boolean> {
  const { row, client } = found;
  const asked = parseScope(row.scope);
  const granted = asked.filter((s) => ticked.includes(s));
  const now = ctx.now();
  const familyId = randomId();
  // Written first: a poll that sees the approval must find the sign-in record already there (an
  // unused one is purged with the other orphans).
  if (granted.includes('openid') && ctx.features.has('openid-connect')) {
    await ctx.storage.oidcGrants.create({
      familyId,
      clientId: client.clientId,
      userId: signIn.userId,
      nonce: null,
      authTime: signIn.authTime,
      amr: signIn.amr,
      acr: signIn.acr,
      sid: signIn.sid,
      idTokenClaims: null,
      createdAt: now,
    });
  }
  const won = await ctx.storage.deviceCodes.approve(
    row.userCodeHash,
    { userId: signIn.userId, grantedScope: formatScope(granted), familyId, signIn: { authTime: signIn.authTime, amr: signIn.amr, acr: signIn.acr, sid: signIn.sid } },
    now,
  );
  if (!won) return false;
  await rememberConsent(ctx, { userId: signIn.userId, client, asked, granted, ip, details: { via: 'device' } });
  return true;
}

/** The person denied (§3.3): the device's next poll answers `access_denied`. */
export async function denyDeviceRequest(ctx: OAuthContext, found: { readonly row: DeviceCodeRow; readonly client: ClientRow }, userId: string, ip: string | null): Promise<boolean> {
  const won = await ctx.storage.deviceCodes.deny(found.row.userCodeHash, userId, ctx.now());
  if (won) await ctx.audit.record('consent.denied', { actorUserId: userId, clientId: found.client.clientId, ip, details: { via: 'device' } });
  return won;
}

const INVALID = 'The device code is invalid';

/**
 * §3.4–3.5: one poll. Pending: `authorization_pending`, or `slow_down` when it came sooner than
 * the interval (which grows by 5 s). Denied: `access_denied`. Expired: `expired_token`. Approved:
 * the tokens, once — the redemption and the tokens are one commit, so of parallel polls exactly
 * one gets them and the others `invalid_grant`.
 */
export async function pollDeviceCode(ctx: OAuthContext, client: ClientRow, deviceCode: string | undefined): Promise<TokenResponse> {
  if (deviceCode === undefined) throw invalidRequest('Missing "device_code"');
  if (deviceCode.length > 128) throw invalidGrant(INVALID, 'oversized device_code');
  const hash = sha256(deviceCode);
  const now = ctx.now();
  // What a waiting device does every few seconds: one statement, which also keeps the interval.
  const poll = await ctx.storage.deviceCodes.poll(hash, client.clientId, now);
  if (poll !== null) {
    if (poll.slowDown) throw new OAuthError('slow_down', `Polling too often: wait at least ${poll.row.interval} seconds between requests`);
    throw new OAuthError('authorization_pending', 'The person has not answered yet');
  }
  // Anything else: read the request to say why.
  const row = await ctx.storage.deviceCodes.byDeviceCode(hash);
  if (row === null) throw invalidGrant(INVALID, 'unknown device_code');
  if (row.clientId !== client.clientId) throw invalidGrant(INVALID, 'device_code of another client');
  if (row.expiresAt <= now) throw new OAuthError('expired_token', 'The device code has expired: start again on the device');
  switch (row.status) {
    case 'pending':
      // Answered nothing between the poll and the read, yet not pollable: the clock moved on.
      throw new OAuthError('authorization_pending', 'The person has not answered yet');
    case 'denied':
      // §3.5: an error response of the token endpoint (RFC 6749 §5.2), so 400.
      throw new OAuthError('access_denied', 'The person denied the request', 400);
    case 'redeemed':
      throw invalidGrant('The device code has already been used', 'device_code replay');
    case 'approved':
      return redeem(ctx, client, row, now);
  }
}

async function redeem(ctx: OAuthContext, client: ClientRow, row: DeviceCodeRow, now: number): Promise<TokenResponse> {
  const userId = row.userId as string;
  const user = await ctx.accounts.byId(userId);
  if (!user || user.disabled) throw invalidGrant('The person who approved this device is no longer active');
  const issued = await prepareTokens(ctx, {
    client,
    userId,
    scope: parseScope(row.grantedScope ?? ''),
    audience: row.audience,
    familyId: row.familyId,
    withRefresh: clientIssuesRefresh(client),
    grantType: DEVICE_GRANT,
  });
  const won = await ctx.storage.transaction(async (tx) => {
    if (!(await tx.deviceCodes.redeem(row.deviceCodeHash, now))) return false;
    await tx.tokens.insertMany(issued.rows);
    return true;
  });
  if (!won) throw invalidGrant('The device code has already been used', 'device_code redeemed by a parallel poll');
  ctx.events.tokenIssued(DEVICE_GRANT, client.clientId);
  return issued.response;
}
