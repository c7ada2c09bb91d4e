/**
 * Authorization endpoint (RFC 6749 §3.1, §4.1.1, §4.2.1; RFC 7636; RFC 9207; SPEC Z1–Z11).
 *
 * Order matters (RFC 9700 §4.2.4, RFC 6749 §4.1.2.1): `client_id` and `redirect_uri` are
 * validated first, and until both are valid an error is shown on a page, never redirected.
 * Every other error is redirected to the client with `error`, `error_description`, `state`
 * and `iss`.
 *
 * The HTTP layer owns sessions and pages; this module only decides.
 */
import type { ClientRow, ConsentRow } from '../storage/types.js';
import type { OAuthContext } from './context.js';
import type { ResponseType, SignIn } from './feature.js';
import { randomId } from './crypto.js';
import { AuthorizePageError, OAuthError, invalidRequest, unauthorizedClient, unsupportedResponseType } from './errors.js';
import { single, type Params } from './params.js';
import { validateChallenge, type ChallengeMethod } from './pkce.js';
import { redirectUriMatches } from './redirect-uri.js';
import { formatScope, isSubset, parseScope, resolveScopes } from './scope.js';
import { resolveAudience } from './audience.js';

export interface AuthorizeRequest {
  readonly client: ClientRow;
  readonly redirectUri: string;
  /** The response type's handler, from the instance's features. */
  readonly responseType: ResponseType;
  /** Where the response parameters go (RFC 6749 §4.1.2 query, §4.2.2 fragment). */
  readonly mode: 'query' | 'fragment';
  /** Every parameter of the request as it arrived, so nothing is lost across a sign-in detour. */
  readonly params: Params;
  readonly scopes: readonly string[];
  readonly state: string | undefined;
  /** Z7: passed back to the redirect URI unchanged. */
  readonly returnTo: string | undefined;
  readonly pkce: { readonly challenge: string; readonly method: ChallengeMethod } | null;
  readonly resource: string | null;
  readonly audience: string;
  /** prompt=consent or approval_prompt=true|force (Z5). */
  readonly forceConsent: boolean;
  readonly promptNone: boolean;
  readonly promptLogin: boolean;
  /** `max_age` (OpenID Connect Core §3.1.2.1) in seconds: an older sign-in must be renewed. */
  readonly maxAge: number | null;
  readonly loginHint: string | null;
  /** OpenID Connect `nonce`, echoed in the ID token. */
  readonly nonce: string | null;
  /** The person the request is for, when the client named them (OpenID Connect `id_token_hint`). */
  readonly subjectHint: string | null;
  /** Z6 */
  readonly replaceExisting: boolean;
}

/** An error to send back to the client's redirect URI (RFC 6749 §4.1.2.1, §4.2.2.1). */
export class AuthorizeRedirectError extends Error {
  constructor(
    readonly oauth: OAuthError,
    readonly location: string,
  ) {
    super(oauth.message);
    this.name = 'AuthorizeRedirectError';
  }
}

/** The parameters the authorization endpoint itself reads; features add theirs (`authorizeParameters`). */
const KERNEL_PARAMETERS: readonly string[] = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'prompt',
  'approval_prompt',
  'replace_existing_token',
  'return_to',
  'response_mode',
  'nonce',
  'login_hint',
  'max_age',
];

/**
 * Builds the redirect: the registered URI untouched, with the response parameters appended to its
 * query (code) or put in the fragment (implicit, RFC 6749 §4.2.2).
 */
export function buildRedirect(redirectUri: string, mode: 'query' | 'fragment', values: Record<string, string | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined) qs.append(k, v);
  if (mode === 'fragment') return `${redirectUri}#${qs.toString()}`;
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${qs.toString()}`;
}

function errorLocation(ctx: OAuthContext, redirectUri: string, mode: 'query' | 'fragment', err: OAuthError, state: string | undefined): string {
  return buildRedirect(redirectUri, mode, {
    error: err.error,
    error_description: err.description,
    state,
    // RFC 9207 §2
    iss: ctx.config.issuer,
  });
}

/** One parameter of a request answered with a page: absent or empty is undefined, repeated is refused. */
export function pageParam(params: Params, name: string): string | undefined {
  const values = params.get(name);
  if (values && values.length > 1) throw new AuthorizePageError('invalid_request', `The parameter "${name}" must not be repeated`);
  const v = values?.[0];
  return v === '' ? undefined : v;
}

/** What to say about an unknown response_type: the instance's types, the opt-in ones in brackets by grant. */
function responseTypeHint(ctx: OAuthContext): string {
  const all = ctx.features.responseTypes().map((t) => ctx.features.responseType(t) as ResponseType);
  const usual = all.filter((t) => t.mode === 'query').map((t) => t.type);
  const byGrant = new Map<string, string[]>();
  for (const t of all.filter((x) => x.mode === 'fragment')) byGrant.set(t.grantType, [...(byGrant.get(t.grantType) ?? []), t.type]);
  const or = (names: readonly string[]): string => (names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`);
  const optIn = [...byGrant].map(([grant, types]) => `${or(types)} for applications allowed the ${grant} grant`);
  return `response_type must be ${or(usual)}${optIn.length > 0 ? ` (or ${optIn.join('; or ')})` : ''}`;
}

/** Step 1: validate the request. Throws AuthorizePageError (no redirect) or AuthorizeRedirectError. */
export async function validateAuthorizeRequest(
  ctx: OAuthContext,
  params: Params,
  /** A compatibility profile's waiver (AnyFetch's authorize has no response_type: code is meant). */
  opts: { readonly defaultResponseType?: string } = {},
): Promise<AuthorizeRequest> {
  // The waiver fills the parameter in, so the request carries it from here on (consent, sign-in).
  if (opts.defaultResponseType !== undefined && !params.has('response_type')) {
    params = new Map([...params, ['response_type', [opts.defaultResponseType]]]);
  }
  const clientId = pageParam(params, 'client_id');
  if (clientId === undefined) throw new AuthorizePageError('invalid_request', 'The request has no client_id.');
  if (clientId.length > 512) throw new AuthorizePageError('invalid_client', 'Unknown application.');
  let client: ClientRow | null;
  try {
    client = await ctx.features.findClient(ctx, clientId);
  } catch (err) {
    // A client_id URL whose metadata document cannot be used (Client ID Metadata Documents).
    if (err instanceof OAuthError) throw new AuthorizePageError(err.error, err.description, err.status === 503 ? 503 : 400);
    throw err;
  }
  if (!client) throw new AuthorizePageError('invalid_client', 'Unknown application: no application has this client_id.');
  if (!client.active) throw new AuthorizePageError('invalid_client', 'This application has been deactivated.');

  const requestedRedirect = pageParam(params, 'redirect_uri');
  let redirectUri: string;
  if (requestedRedirect === undefined) {
    // RFC 6749 §3.1.2.3: with several registered URIs the request must name one.
    if (client.redirectUris.length !== 1) {
      throw new AuthorizePageError('invalid_request', 'The request must include a redirect_uri registered for this application.');
    }
    redirectUri = client.redirectUris[0] as string;
  } else if (redirectUriMatches(requestedRedirect, client.redirectUris)) {
    redirectUri = requestedRedirect;
  } else {
    throw new AuthorizePageError('invalid_request', 'The redirect_uri is not registered for this application.');
  }

  // From here on errors go back to the (now trusted) redirect URI.
  const rawResponseType = params.get('response_type');
  const known = rawResponseType?.length === 1 ? ctx.features.responseType(rawResponseType[0] ?? '') : undefined;
  const mode: 'query' | 'fragment' = known?.mode ?? 'query';
  const stateValues = params.get('state');
  const state = stateValues && stateValues.length === 1 && stateValues[0] !== '' ? stateValues[0] : undefined;
  const fail = (err: OAuthError): AuthorizeRedirectError =>
    new AuthorizeRedirectError(err, errorLocation(ctx, redirectUri, mode, err, state));

  try {
    for (const [key, values] of params) {
      // RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
      if (values.length > 1) throw invalidRequest(`The parameter "${key}" must not be repeated`);
      if (key.length > 64 && !KERNEL_PARAMETERS.includes(key) && !ctx.features.authorizeParameters.has(key)) throw invalidRequest('Unexpected parameter');
    }
    const typeName = single(params, 'response_type');
    if (typeName === undefined) throw invalidRequest('Missing response_type');
    const responseType = ctx.features.responseType(typeName);
    if (!responseType) throw unsupportedResponseType(responseTypeHint(ctx));
    if (!client.grantTypes.includes(responseType.grantType)) {
      // Z8: implicit (a fragment response type) only for applications explicitly allowed it.
      if (responseType.mode === 'fragment') throw unsupportedResponseType(`This application is not allowed response_type=${responseType.type}`);
      throw unauthorizedClient(`This application is not allowed the ${responseType.grantType.replace(/_/g, ' ')} grant`);
    }
    const responseMode = single(params, 'response_mode');
    if (responseMode !== undefined && responseMode !== responseType.mode) {
      throw invalidRequest(`response_mode=${responseMode.slice(0, 32)} is not supported for this response_type`);
    }
    const asked = parseScope(single(params, 'scope'));
    // Scopes a feature lets any application ask for on a person's behalf (OpenID Connect's `openid`).
    const scopes = resolveScopes(asked, asked.length === 0 ? client.scopes : [...client.scopes, ...ctx.features.personScopes], { forPerson: true });
    const pkce =
      responseType.pkce
        ? validateChallenge(single(params, 'code_challenge'), single(params, 'code_challenge_method'), {
            // RFC 9700 §2.1.1: PKCE required for public clients.
            required: client.clientType === 'public',
            allowPlain: ctx.config.allowPlainPkce,
          })
        : null;
    const resource = single(params, 'resource') ?? null;
    const audience = await resolveAudience(ctx, resource ?? undefined, scopes);
    const prompt = (single(params, 'prompt') ?? '').split(' ').filter((p) => p.length > 0);
    for (const p of prompt) {
      if (!['none', 'login', 'consent', 'select_account'].includes(p)) throw invalidRequest(`Unsupported prompt value "${p.slice(0, 32)}"`);
    }
    if (prompt.includes('none') && prompt.length > 1) throw invalidRequest('prompt=none cannot be combined with other values');
    const nonce = single(params, 'nonce');
    if (nonce !== undefined && nonce.length > 2048) throw invalidRequest('nonce is too long (2048 max)');
    const rawMaxAge = single(params, 'max_age');
    if (rawMaxAge !== undefined && !/^\d{1,9}$/.test(rawMaxAge)) throw invalidRequest('max_age must be a whole number of seconds');
    const loginHint = single(params, 'login_hint') ?? null;
    if (loginHint !== null && loginHint.length > 320) throw invalidRequest('login_hint is too long (320 max)');
    const approval = single(params, 'approval_prompt');
    const state = single(params, 'state');
    if (state !== undefined && state.length > 2048) throw invalidRequest('state is too long (2048 max)');
    const returnTo = single(params, 'return_to');
    if (returnTo !== undefined && returnTo.length > 2048) throw invalidRequest('return_to is too long (2048 max)');
    const request: AuthorizeRequest = {
      client,
      redirectUri,
      responseType,
      mode: responseType.mode,
      params,
      scopes,
      state,
      returnTo,
      pkce,
      resource,
      audience,
      forceConsent: prompt.includes('consent') || approval === 'true' || approval === 'force',
      promptNone: prompt.includes('none'),
      // `select_account`: Tollgate keeps one account per browser, so choosing one is signing in again.
      promptLogin: prompt.includes('login') || prompt.includes('select_account'),
      // OIDC Registration §2 default_max_age: the application's default, which max_age overrides.
      maxAge: rawMaxAge !== undefined ? Number(rawMaxAge) : scopes.includes('openid') ? client.oidc.defaultMaxAge : null,
      loginHint,
      nonce: nonce ?? null,
      subjectHint: null,
      replaceExisting: single(params, 'replace_existing_token') === 'true',
    };
    const findings = await ctx.features.validateAuthorize(ctx, request);
    return findings.subjectHint !== undefined ? { ...request, subjectHint: findings.subjectHint } : request;
  } catch (err) {
    if (err instanceof OAuthError) throw fail(err);
    throw err;
  }
}

/** The request's parameters as a query string (for the consent form and the waiting sign-in). */
export function encodeParams(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, values] of params) for (const v of values) q.append(k, v);
  return q.toString();
}

/**
 * The parameters once a sign-in has satisfied `prompt=login` (OpenID Connect Core §3.1.2.1): only
 * `login` goes; every other value (`consent`…) and parameter (`max_age`…) stays.
 */
export function withoutLoginPrompt(params: Params): Params {
  const prompt = params.get('prompt');
  if (!prompt || prompt.length !== 1) return params;
  const kept = (prompt[0] ?? '').split(' ').filter((p) => p.length > 0 && p !== 'login' && p !== 'select_account');
  const out = new Map(params);
  if (kept.length === 0) out.delete('prompt');
  else out.set('prompt', [kept.join(' ')]);
  return out;
}

/** Whether a session that signed in at `authTime` (epoch ms) needs a new sign-in for this request. */
export function needsSignIn(ctx: OAuthContext, req: AuthorizeRequest, authTime: number | null): boolean {
  if (authTime === null || req.promptLogin) return true;
  return req.maxAge !== null && ctx.now() - authTime > req.maxAge * 1000;
}

/** The redirect for an error found after validation (e.g. the user denied, or prompt=none failed). */
export function errorRedirect(ctx: OAuthContext, req: AuthorizeRequest, err: OAuthError): string {
  return errorLocation(ctx, req.redirectUri, req.mode, err, req.state);
}

export type AuthorizeDecision =
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'consent'; readonly request: AuthorizeRequest };

/**
 * Step 2, for a signed-in user: skip the consent page when the user already granted these
 * scopes to this version of the application's scopes (Z5, and so Z6 skips it too), otherwise ask.
 */
export async function decide(ctx: OAuthContext, req: AuthorizeRequest, signIn: SignIn, ip: string | null): Promise<AuthorizeDecision> {
  const userId = signIn.userId;
  const consent = await ctx.storage.consents.get(userId, req.client.clientId);
  const remembered =
    consent !== null &&
    consent.scopesVersion === req.client.scopesVersion &&
    isSubset(req.scopes, parseScope(consent.scope))
      ? consent
      : null;
  // Z6 (replace_existing_token) is applied when the code is redeemed (issue #15 §7): neither this
  // GET, nor the consent page, nor a Deny revokes anything.
  if (remembered !== null && !req.forceConsent) {
    return { kind: 'redirect', location: await approve(ctx, req, signIn, req.scopes, ip, remembered) };
  }
  if (req.promptNone) {
    return { kind: 'redirect', location: errorRedirect(ctx, req, new OAuthError('consent_required', 'The user must grant access')) };
  }
  return { kind: 'consent', request: req };
}

/**
 * Z5: what a person allowed is remembered — what they granted before and were not asked about
 * now, plus what they granted now. A scope they were asked about and unticked is forgotten;
 * consent given to an older version of the application's scopes does not carry over. Shared by
 * the consent page and every other place a person answers (the device verification page).
 */
export async function rememberConsent(
  ctx: OAuthContext,
  answer: {
    readonly userId: string;
    readonly client: ClientRow;
    readonly asked: readonly string[];
    readonly granted: readonly string[];
    /** The consent as it was, when the caller already read it (undefined: read it here). */
    readonly previous?: ConsentRow | null;
    readonly ip: string | null;
    /** Extra audit details (e.g. `via: device`). */
    readonly details?: Readonly<Record<string, unknown>>;
  },
): Promise<void> {
  const { userId, client, asked, granted } = answer;
  const previous = answer.previous !== undefined ? answer.previous : await ctx.storage.consents.get(userId, client.clientId);
  const kept =
    previous !== null && previous.scopesVersion === client.scopesVersion
      ? parseScope(previous.scope).filter((s) => !asked.includes(s) && client.scopes.includes(s))
      : [];
  await ctx.storage.consents.upsert({ userId, clientId: client.clientId, scope: formatScope([...kept, ...granted]), scopesVersion: client.scopesVersion }, ctx.now());
  await ctx.audit.record('consent.granted', { actorUserId: userId, clientId: client.clientId, ip: answer.ip, details: { scope: formatScope(granted), ...answer.details } });
}

/**
 * The user allowed (Z4, Z11): record the consent and send a code (or, for implicit, a token).
 * `remembered`: no page was shown because this remembered consent already covers the request;
 * it is then unchanged, so it is neither rewritten nor recorded again as granted.
 */
export async function approve(
  ctx: OAuthContext,
  req: AuthorizeRequest,
  signIn: SignIn,
  granted: readonly string[],
  ip: string | null,
  remembered?: ConsentRow,
): Promise<string> {
  const userId = signIn.userId;
  const now = ctx.now();
  const scope = formatScope(granted);
  const silent = remembered !== undefined;
  const previous = remembered ?? (await ctx.storage.consents.get(userId, req.client.clientId));
  // Z6: "when the user is accessing your application for the first time, this parameter is
  // ignored". The earlier tokens are revoked when the application redeems the new code (the
  // authorization-code grant), never by this GET: a link from another site destroys nothing.
  const replaceExisting = req.replaceExisting && previous !== null;
  // Z5: remember what the user granted before and was not asked about now, plus what they granted
  // now. A scope the user unticked on the page is forgotten; consent given to older app scopes
  // does not carry over. A silent approval changes nothing, so it never shrinks the consent.
  if (!silent) await rememberConsent(ctx, { userId, client: req.client, asked: req.scopes, granted, previous, ip });

  const approval = { userId, signIn, familyId: randomId(), scopes: granted, replaceExisting };
  const members = await ctx.features.authorized(ctx, { request: req, approval, members: await req.responseType.respond(ctx, req, approval) });
  return buildRedirect(req.redirectUri, req.mode, {
    ...members,
    state: req.state,
    // RFC 9207 §2
    iss: ctx.config.issuer,
    return_to: req.returnTo,
  });
}

/** The user denied (Z4): `error=access_denied` with the state. */
export async function deny(ctx: OAuthContext, req: AuthorizeRequest, userId: string, ip: string | null): Promise<string> {
  await ctx.audit.record('consent.denied', { actorUserId: userId, clientId: req.client.clientId, ip });
  return errorRedirect(ctx, req, new OAuthError('access_denied', 'The user denied the request', 403));
}
